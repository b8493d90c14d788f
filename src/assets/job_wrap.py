# dbxr --wrap: the spark_python_task that `dbxr job run FILE --wrap` submits in front of the user's script.
#
# Parameters (the task's sys.argv[1:]):
#   --dbxr-file PATH --dbxr-root DIR [--dbxr-local-dir DIR] -- USER_ARGS...
#
# Databricks runs a spark_python_task by exec()ing its compiled source: the script has no __file__, and
# Python cannot import packages from the /Workspace FUSE mount. So this copies the uploaded tree to local
# disk and runs the script from there with runpy, the way `python FILE ARGS` would: __file__ is set,
# `if __name__ == "__main__":` runs, sibling packages import, argv is the user's. See src/assets/README.md.
#
# It is exec()ed without __file__ itself, so it must never use it. Plain python3 (3.8+), standard library.

import atexit
import hashlib
import importlib
import os
import runpy
import shutil
import tempfile
import sys

_DBXR_PREFIX = "dbxr --wrap"
# What a Databricks notebook (and a spark_python_task on classic compute) has as bare names; passed on to
# the script when this runner has them, as Databricks' own VS Code workflow wrapper does.
_DBXR_NOTEBOOK_GLOBALS = (
    "spark", "dbutils", "display", "displayHTML", "sc", "sqlContext", "sql", "table", "udf", "getArgument",
)
# Written into every copy; a directory without it is never deleted (--dbxr-local-dir could be anything).
_DBXR_MARKER = ".dbxr_wrap_copy"
_DBXR_USAGE = "usage: _dbxr_wrap.py --dbxr-file PATH --dbxr-root DIR [--dbxr-local-dir DIR] -- [ARGS...]"


class _DbxrUsage(Exception):
    pass


def _dbxr_parse(argv):
    names = {"--dbxr-file": "file", "--dbxr-root": "root", "--dbxr-local-dir": "local_dir"}
    opts = {}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            return opts, list(argv[i + 1:])
        key, eq, value = arg.partition("=")
        if key not in names:
            raise _DbxrUsage("unknown parameter %r (the script's own arguments go after --)" % arg)
        if not eq:
            i += 1
            if i >= len(argv):
                raise _DbxrUsage("%s needs a value" % key)
            value = argv[i]
        opts[names[key]] = value
        i += 1
    return opts, []


def _dbxr_workspace_path(path):
    # Jobs name workspace objects with and without the /Workspace prefix; only the prefixed one is a file.
    if path.startswith("/") and not os.path.exists(path) and os.path.exists("/Workspace" + path):
        return "/Workspace" + path
    return path


def _dbxr_inside(child, parent):
    rel = os.path.relpath(child, parent)
    return rel == os.curdir or not (rel == os.pardir or rel.startswith(os.pardir + os.sep))


def _dbxr_copy(src, dst):
    """Copy src to a fresh dst, replacing an earlier copy; returns the directory that holds the copy."""
    if _dbxr_inside(dst, src) or _dbxr_inside(src, dst):
        raise ValueError("%s: the local directory %s overlaps the project tree %s" % (_DBXR_PREFIX, dst, src))
    if os.path.lexists(dst):
        if not os.path.isdir(dst) or os.path.islink(dst) or (
            os.listdir(dst) and not os.path.exists(os.path.join(dst, _DBXR_MARKER))
        ):
            raise FileExistsError(
                "%s: refusing to replace %s: it is not a copy made by dbxr --wrap (no %s); "
                "choose another --dbxr-local-dir" % (_DBXR_PREFIX, dst, _DBXR_MARKER)
            )
    # Copy beside it first, so a failed copy never leaves half a tree where the next run would look.
    staging = "%s.partial-%d" % (dst, os.getpid())
    if os.path.lexists(staging):
        shutil.rmtree(staging)
    shutil.copytree(src, staging, ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True)
    open(os.path.join(staging, _DBXR_MARKER), "w").close()
    if os.path.lexists(dst):
        shutil.rmtree(dst)
    try:
        os.rename(staging, dst)
    except OSError:
        # Another run of the same tree took dst between the rmtree and the rename: run from our own copy.
        return staging
    return dst


def _dbxr_forget_modules(local_root):
    # A second run in the same Python process must not reuse modules imported from the replaced copy.
    for name, module in list(sys.modules.items()):
        origin = getattr(module, "__file__", None)
        if isinstance(origin, str) and _dbxr_inside(os.path.abspath(origin), local_root):
            del sys.modules[name]
    importlib.invalidate_caches()


def _dbxr_main(argv, namespace):
    try:
        opts, user_args = _dbxr_parse(argv)
        if "file" not in opts or "root" not in opts:
            raise _DbxrUsage("--dbxr-file and --dbxr-root are required")
        root = os.path.normpath(os.path.abspath(_dbxr_workspace_path(opts["root"])))
        script = opts["file"] if os.path.isabs(opts["file"]) else os.path.join(root, opts["file"])
        script = os.path.normpath(os.path.abspath(_dbxr_workspace_path(script)))
        if not _dbxr_inside(script, root) or script == root:
            raise _DbxrUsage("--dbxr-file %s is not inside --dbxr-root %s" % (script, root))
    except _DbxrUsage as e:
        sys.stderr.write("%s: error: %s\n%s\n" % (_DBXR_PREFIX, e, _DBXR_USAGE))
        sys.stderr.flush()
        raise SystemExit(2)

    # The default copy is this run's own (two runs of one tree on one cluster never share it) and is
    # removed when the script ends (leaving /tmp as it was); a --dbxr-local-dir that the user chose is kept.
    own_copy = "local_dir" not in opts
    if own_copy:
        local_root = tempfile.mkdtemp(
            prefix="dbxr_job_" + hashlib.sha256(root.encode("utf-8")).hexdigest()[:12] + "_", dir="/tmp"
        )
    else:
        local_root = opts["local_dir"]
    local_root = os.path.normpath(os.path.abspath(local_root))
    try:
        _dbxr_run(root, script, local_root, user_args, namespace)
    except BaseException:
        # The traceback about to be printed reads its source lines from the copy: remove it at exit,
        # after Python has shown the error.
        if own_copy:
            atexit.register(shutil.rmtree, local_root, True)
        raise
    if own_copy:
        try:
            os.chdir("/")
        except OSError:
            pass
        shutil.rmtree(local_root, ignore_errors=True)


def _dbxr_run(root, script, local_root, user_args, namespace):
    sys.stderr.write("%s: running %s from %s\n" % (_DBXR_PREFIX, script, local_root))
    sys.stderr.flush()
    if not os.path.isdir(root):
        raise FileNotFoundError("%s: the project tree %s does not exist" % (_DBXR_PREFIX, root))
    if not os.path.isfile(script):
        raise FileNotFoundError("%s: the script %s does not exist" % (_DBXR_PREFIX, script))

    local_root = _dbxr_copy(root, local_root)
    local_script = os.path.join(local_root, os.path.relpath(script, root))
    script_dir = os.path.dirname(local_script)
    _dbxr_forget_modules(local_root)

    # As `python FILE` does, plus the project root (like Databricks' own workflow wrapper): the script's
    # directory first, then the root, so both `import sibling` and `from tools.helper import x` work.
    os.chdir(script_dir)
    for entry in (local_root, script_dir):
        while entry in sys.path:
            sys.path.remove(entry)
        sys.path.insert(0, entry)
    sys.argv = [local_script] + user_args
    # __file__ now names the local copy; these name the originals, for scripts that write results back.
    os.environ["DBXR_WORKSPACE_ROOT"] = root
    os.environ["DBXR_WORKSPACE_FILE"] = script
    os.environ["DBXR_LOCAL_ROOT"] = local_root

    init_globals = {name: namespace[name] for name in _DBXR_NOTEBOOK_GLOBALS if name in namespace}
    # SystemExit and exceptions propagate unchanged: the task's exit code, `error` and `error_trace` are
    # the script's own.
    runpy.run_path(local_script, init_globals=init_globals, run_name="__main__")


# Unconditionally, not under `if __name__ == "__main__"`: if a runtime ever ran this under another name,
# a guard would make the task succeed without running anything.
_dbxr_main(sys.argv[1:], globals())

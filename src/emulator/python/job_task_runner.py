"""dbxr emulator: runs one spark_python_task the way a Databricks driver does.

Started by src/emulator/job_process.ts as `python3 -u -c <this source>` with the CWD already set to
the script's directory. Databricks does not run the file as `python file.py`: an IPython kernel
executes a small wrapper that opens the file in binary mode, compile()s it with its /Workspace path
as the code's filename and exec()s it (docs/databricks-behaviour.md §10.2). So here:

- the wrapper is compiled as `~/.ipykernel/<pid>/command--1-<n>` and is the first frame of every
  traceback; its line 5 is `del sys`, line 7 `with open(filename, "rb") as f:` and line 8 the exec;
- the script runs in a fresh `__main__` namespace without `__file__` (NameError, as on Databricks);
  the wrapper's `filename` and `f` are left in it, as they are in the notebook namespace there;
- `sys.argv` is `[<the /Workspace path>] + parameters`;
- `spark`, `dbutils`, `display`, `displayHTML`, `sc`, `sqlContext`, `sql`, `table`, `udf` and
  `getArgument` are pre-set (stand-ins: only spark.conf and the notebook context's apiUrl/apiToken
  work; everything else says it is not emulated).

/Workspace (and /databricks/driver) are mapped onto local directories by patching the Python-level
file functions (builtins.open, io.open, io.open_code, os.stat/lstat/listdir/scandir/open/chdir/
getcwd/mkdir/remove/rename/..., tokenize's open): os.path.exists, os.listdir, os.walk, glob, open(),
pathlib and shutil.copytree('/Workspace/...', '/tmp/x') see the workspace files. The import system is
left alone on purpose: it calls the `posix` and `_io` modules directly, so a /Workspace entry on
sys.path finds nothing (`No module named 'tools'`), which is the pitfall Databricks users meet.
Subprocesses get no mapping.

Protocol (JSON lines, ASCII). The parent's stdin and stderr pipes are the private channel: they are
dup'ed at start, then fd 0 becomes /dev/null and fd 2 a copy of fd 1, so stdout and stderr of the
script (and of its subprocesses) reach the parent's stdout pipe in write order; the parent keeps the
last N bytes as `logs`.
  parent -> runner: {"type": "init", "pythonFile", "parameters", "mounts": {"/Workspace": dir, ...},
                     "cwd", "apiUrl", "apiToken", "workspaceHost", "sparkConf"}
                    {"type": "interrupt"}     (cancel: SIGINT into the script)
                    {"type": "kill"}          (SIGKILL to the whole process group)
  runner -> parent: {"type": "hello", "pid"}
                    {"type": "done", "outcome": "success" | "exception" | "exit" | "interrupted",
                     "error"?, "error_trace"?, "exit_code"?}
EOF on the channel means the parent is gone: the process group is killed. After "done" the runner
kills its own process group too, so no child of the script outlives its task.
"""

import os
import sys


def main():
    in_fd, out_fd = os.dup(0), os.dup(2)  # non-inheritable copies: the private channel
    try:
        os.setsid()  # own process group: one signal takes the script's children along
    except OSError:
        pass
    channel = _Channel(in_fd, out_fd)
    channel.send({"type": "hello", "pid": os.getpid()})
    init = channel.read_init()
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(1, 2)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(encoding="utf-8", errors="backslashreplace")
        except Exception:
            pass
    runner = _Runner(init, channel)
    channel.start_reader(runner)
    done = runner.run()
    _flush_all()
    channel.send(done)
    channel.kill_group()


def _flush_all():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    try:
        import ctypes

        ctypes.CDLL(None).fflush(None)  # what C extensions left in stdio buffers
    except Exception:
        pass


class _Channel:
    def __init__(self, in_fd, out_fd):
        import threading

        self.out_fd = out_fd
        self._in = os.fdopen(in_fd, "rb", closefd=False)
        self._lock = threading.Lock()

    def send(self, msg):
        import json

        data = (json.dumps(msg, ensure_ascii=True) + "\n").encode("ascii")
        with self._lock:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(self.out_fd, view):]
            except OSError:
                self.kill_group()

    def read_init(self):
        import json

        line = self._in.readline()
        if not line:
            self.kill_group()
        msg = json.loads(line)
        if msg.get("type") != "init":
            raise RuntimeError("dbxr job task runner: expected an init message first")
        return msg

    def start_reader(self, runner):
        import json
        import threading

        def run():
            while True:
                line = self._in.readline()
                if not line:
                    self.kill_group()
                msg = json.loads(line)
                if msg.get("type") == "interrupt":
                    runner.interrupt()
                elif msg.get("type") == "kill":
                    self.kill_group()

        threading.Thread(target=run, name="dbxr-channel", daemon=True).start()

    def kill_group(self):
        import signal

        try:
            if os.getpgrp() == os.getpid():
                os.killpg(os.getpid(), signal.SIGKILL)
        finally:
            os._exit(0)


# ----- /Workspace on local directories -----


class _Mounts:
    """Virtual prefixes (/Workspace, /databricks/driver) and the local directories behind them."""

    def __init__(self, mounts):
        import posixpath

        self._norm = posixpath.normpath
        self.pairs = sorted(
            ((v.rstrip("/"), os.path.realpath(r).rstrip("/")) for v, r in mounts.items()),
            key=lambda p: -len(p[0]),
        )

    def to_local(self, path):
        if isinstance(path, int) or path is None:
            return path
        try:
            raw = os.fspath(path)
        except TypeError:
            return path
        as_bytes = isinstance(raw, bytes)
        s = os.fsdecode(raw) if as_bytes else raw
        if not s.startswith("/"):
            return path
        norm = self._norm(s)
        for virtual, local in self.pairs:
            if norm == virtual or norm.startswith(virtual + "/"):
                mapped = local + norm[len(virtual):]
                return os.fsencode(mapped) if as_bytes else mapped
        return path

    def to_virtual(self, path):
        as_bytes = isinstance(path, bytes)
        s = os.fsdecode(path) if as_bytes else path
        for virtual, local in self.pairs:
            if s == local or s.startswith(local + "/"):
                mapped = virtual + s[len(local):]
                return os.fsencode(mapped) if as_bytes else mapped
        return path

    def is_virtual(self, path):
        if isinstance(path, int) or path is None:
            return False
        try:
            return self.to_local(path) is not path
        except Exception:
            return False


class _VirtualDirEntry:
    """An os.DirEntry whose `path` keeps the /Workspace form it was listed under."""

    def __init__(self, entry, parent):
        self._entry = entry
        self.name = entry.name
        self.path = os.path.join(parent, entry.name) if parent else entry.name

    def __fspath__(self):
        return self.path

    def __getattr__(self, name):
        return getattr(self._entry, name)

    def __repr__(self):
        return f"<DirEntry {self.name!r}>"


class _VirtualScandir:
    def __init__(self, it, parent):
        self._it, self._parent = it, parent

    def __iter__(self):
        return self

    def __next__(self):
        return _VirtualDirEntry(next(self._it), self._parent)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self._it.close()


def _rename(f, name):
    """A file opened through a mount keeps the name it was opened by (`f.name` is the /Workspace path)."""
    raw = getattr(getattr(f, "buffer", f), "raw", getattr(f, "buffer", f))
    try:
        raw.name = os.fspath(name)
    except Exception:
        pass


def _install_mounts(mounts):
    import builtins
    import io
    import shutil  # noqa: F401  (imported before patching: shutil picks its fd-based rmtree at import)
    import tokenize

    m = _Mounts(mounts)
    supports = [
        getattr(os, name)
        for name in ("supports_dir_fd", "supports_fd", "supports_follow_symlinks", "supports_effective_ids")
        if hasattr(os, name)
    ]

    def path_first(fn):
        def wrapper(path, *args, **kwargs):
            return fn(m.to_local(path), *args, **kwargs)

        return wrapper

    def two_paths(fn):
        def wrapper(src, dst, *args, **kwargs):
            return fn(m.to_local(src), m.to_local(dst), *args, **kwargs)

        return wrapper

    def patch(module, name, make):
        original = getattr(module, name, None)
        if original is None:
            return
        replacement = make(original)
        replacement.__name__ = getattr(original, "__name__", name)
        replacement.__doc__ = getattr(original, "__doc__", None)
        setattr(module, name, replacement)
        if module is os:
            for s in supports:
                if original in s:
                    s.add(replacement)

    for name in ("open", "stat", "lstat", "access", "mkdir", "rmdir", "remove", "unlink", "utime",
                 "chmod", "chown", "lchown", "readlink", "truncate", "listxattr", "getxattr",
                 "setxattr", "removexattr", "statvfs", "chdir", "mkfifo", "pathconf"):
        patch(os, name, path_first)
    for name in ("rename", "replace", "link", "symlink"):
        patch(os, name, two_paths)

    def listdir(original):
        def wrapper(path="."):
            return original(m.to_local(path))

        return wrapper

    def scandir(original):
        def wrapper(path="."):
            if m.is_virtual(path):
                parent = os.fspath(path)
                return _VirtualScandir(original(m.to_local(path)), os.fsdecode(parent))
            return original(path)

        return wrapper

    def getcwd(original):
        def wrapper():
            return m.to_virtual(original())

        return wrapper

    patch(os, "listdir", listdir)
    patch(os, "scandir", scandir)
    patch(os, "getcwd", getcwd)
    patch(os, "getcwdb", getcwd)
    def opener(original):
        def wrapper(file, *args, **kwargs):
            local = m.to_local(file)
            f = original(local, *args, **kwargs)
            if local is not file:
                _rename(f, file)
            return f

        return wrapper

    for module in (builtins, io):
        patch(module, "open", opener)
    patch(io, "open_code", opener)
    if hasattr(tokenize, "_builtin_open"):  # linecache reads source through it (tracebacks)
        patch(tokenize, "_builtin_open", path_first)
    return m


# ----- notebook globals (stand-ins) -----


def _not_emulated(what):
    return AttributeError(
        f"{what} is not available in the dbxr emulator (it has no Spark and no Databricks runtime); "
        "run this on a real cluster"
    )


class _Stub:
    _path = "object"

    def __init__(self, path):
        self._path = path

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        raise _not_emulated(f"{self._path}.{name}")

    def __call__(self, *args, **kwargs):
        raise _not_emulated(f"{self._path}()")

    def __repr__(self):
        return f"<dbxr emulator stand-in for {self._path}>"


class _Option:
    def __init__(self, value):
        self._value = value

    def get(self):
        return self._value

    def isDefined(self):
        return self._value is not None

    def getOrElse(self, default):
        return self._value if self._value is not None else default


class _Chain(_Stub):
    """dbutils.notebook.entry_point.getDbutils().notebook().getContext(): only the API URL and token."""

    def __init__(self, path, url, token, steps):
        super().__init__(path)
        self._url, self._token, self._steps = url, token, steps

    def __getattr__(self, name):
        if self._steps and name == self._steps[0]:
            rest = self._steps[1:]
            path = f"{self._path}.{name}"
            return lambda: _Chain(path + "()", self._url, self._token, rest)
        if not self._steps and name == "apiUrl":
            return lambda: _Option(self._url)
        if not self._steps and name == "apiToken":
            return lambda: _Option(self._token)
        return super().__getattr__(name)


class _InputWidgetNotDefined(Exception):
    pass


class _Widgets(_Stub):
    def get(self, name):
        raise _InputWidgetNotDefined(
            f"com.databricks.dbutils_v1.InputWidgetNotDefined: No input widget named {name} is defined"
        )

    getArgument = get


class _DBUtils(_Stub):
    def __init__(self, url, token):
        super().__init__("dbutils")
        self.notebook = _Stub("dbutils.notebook")
        self.notebook.__dict__["entry_point"] = _Chain(
            "dbutils.notebook.entry_point", url, token, ["getDbutils", "notebook", "getContext"]
        )
        self.widgets = _Widgets("dbutils.widgets")


class SparkNoSuchElementException(Exception):
    pass


class _RuntimeConf(_Stub):
    _missing = object()

    def __init__(self, values):
        super().__init__("spark.conf")
        self._values = dict(values)

    def get(self, key, default=_missing):
        if key in self._values:
            return self._values[key]
        if default is not _RuntimeConf._missing:
            return default
        raise SparkNoSuchElementException(
            f'[SQL_CONF_NOT_FOUND] The SQL config "{key}" cannot be found. Verify that the config exists.'
        )

    def set(self, key, value):
        self._values[key] = str(value).lower() if isinstance(value, bool) else str(value)

    def unset(self, key):
        self._values.pop(key, None)

    def getAll(self):
        return dict(self._values)


class _SparkSession(_Stub):
    def __init__(self, conf):
        super().__init__("spark")
        self.conf = _RuntimeConf(conf)


def _display(*objs, **kwargs):
    try:
        from IPython.display import display

        display(*objs, **kwargs)
    except ImportError:
        for o in objs:
            print(repr(o))


def _display_html(html):
    if not isinstance(html, str):
        raise TypeError(f"displayHTML() expects a str, got {type(html).__name__}")


def _get_argument(name, default=None):
    if default is not None:
        return default
    raise _InputWidgetNotDefined(
        f"com.databricks.dbutils_v1.InputWidgetNotDefined: No input widget named {name} is defined"
    )


def _notebook_globals(init):
    conf = {"spark.databricks.workspaceUrl": init.get("workspaceHost") or ""}
    conf.update(init.get("sparkConf") or {})
    spark = _SparkSession(conf)
    return {
        "spark": spark,
        "sc": _Stub("sc"),
        "sqlContext": _Stub("sqlContext"),
        "sql": _Stub("sql"),
        "table": _Stub("table"),
        "udf": _Stub("udf"),
        "dbutils": _DBUtils(init.get("apiUrl"), init.get("apiToken")),
        "display": _display,
        "displayHTML": _display_html,
        "getArgument": _get_argument,
    }


# ----- the run -----

_WRAPPER = """import sys
filename = {filename!r}
sys.argv = [filename] + {parameters!r}

del sys

with open(filename, "rb") as f:
    exec(compile(f.read(), filename, 'exec'))
"""


class _Runner:
    def __init__(self, init, channel):
        import random
        import threading

        self.init = init
        self.channel = channel
        self.lock = threading.Lock()
        self.running = False
        self.interrupted = False
        self.filename = init["pythonFile"]
        home = os.path.expanduser("~")
        self.wrapper_name = f"{home}/.ipykernel/{os.getpid()}/command--1-{random.randrange(10**9, 10**10)}"

    def interrupt(self):
        """Channel thread: SIGINT into the main thread while the script runs (a process-directed
        signal could land on this thread)."""
        import signal
        import threading

        with self.lock:
            self.interrupted = True
            if self.running:
                signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)

    def run(self):
        import linecache
        import types

        mounts = self.init.get("mounts") or {}
        m = _install_mounts(mounts) if mounts else None
        cwd = self.init.get("cwd")
        if cwd:
            os.chdir(cwd)
        # `python -c` puts the CWD first on sys.path; a job's script directory is not on it.
        while sys.path and sys.path[0] in ("", os.getcwd(), cwd):
            sys.path.pop(0)
        wrapper = _WRAPPER.format(filename=self.filename, parameters=list(self.init.get("parameters") or []))
        linecache.cache[self.wrapper_name] = (len(wrapper), None, wrapper.splitlines(True), self.wrapper_name)
        self._cache_source(m)
        main = types.ModuleType("__main__")
        main.__dict__.update(_notebook_globals(self.init))
        sys.modules["__main__"] = main
        code = compile(wrapper, self.wrapper_name, "exec")
        try:
            result = self._exec(code, main.__dict__)
        except KeyboardInterrupt:  # a cancel that landed just after the script ended
            result = {"outcome": "interrupted"}
        return {"type": "done", **result}

    def _exec(self, code, namespace):
        import signal

        try:
            with self.lock:
                if self.interrupted:
                    raise KeyboardInterrupt
                self.running = True
            exec(code, namespace)
            return {"outcome": "success"}
        except SystemExit as e:
            if e.code is None or e.code == 0 or e.code is False:
                return {"outcome": "success"}
            return {"outcome": "exit", "exit_code": _exit_code(e.code), **self._error(e)}
        except KeyboardInterrupt as e:
            if self.interrupted:
                return {"outcome": "interrupted"}
            return {"outcome": "exception", **self._error(e)}
        except BaseException as e:
            return {"outcome": "exception", **self._error(e)}
        finally:
            with self.lock:
                self.running = False
            signal.signal(signal.SIGINT, signal.SIG_IGN)

    def _cache_source(self, m):
        """The script's lines for tracebacks, read once (the /Workspace path is not a real file)."""
        import linecache

        try:
            with open(m.to_local(self.filename) if m else self.filename, "rb") as f:
                text = f.read().decode("utf-8", "replace")
        except OSError:
            return
        linecache.cache[self.filename] = (len(text), None, text.splitlines(True), self.filename)

    def _error(self, e):
        """`error`: the exception line plus a trace id; `error_trace`: IPython's traceback from the wrapper."""
        import secrets

        name = type(e).__name__
        message = str(e)
        line = f"{name}: {message}" if message else name
        trace_id = f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-00"
        tb = e.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename != self.wrapper_name:
            tb = tb.tb_next
        return {"error": f"{line}\n[Trace ID: {trace_id}]", "error_trace": _format_traceback(e, tb or e.__traceback__)}


def _exit_code(code):
    return code if isinstance(code, int) else 1


def _format_traceback(e, tb):
    try:
        from IPython.core import ultratb

        # IPython 8 "Neutral" colours are what Databricks sends (\x1b[0;31m header, \x1b[0;32m paths).
        vtb = ultratb.VerboseTB(color_scheme="Neutral")
        return vtb.stb2text(vtb.structured_traceback(type(e), e, tb))
    except Exception:
        import traceback

        return "".join(traceback.format_exception(type(e), e, tb)).rstrip("\n")


if __name__ == "__main__":
    main()

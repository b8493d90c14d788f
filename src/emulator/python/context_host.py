"""dbxr emulator: the host process of one API 1.2 execution context.

Started by src/emulator/context_process.ts as `python3 -u -c <this source>`. It keeps one IPython
shell (the user's globals) for the life of the context and runs commands one at a time, answering
the way a Databricks Python REPL answers over API 1.2.

Protocol (JSON lines, ASCII only). The parent's pipes on fds 0 and 1 become a private channel: they
are dup'ed to non-inheritable fds at start, then fd 0 is pointed at /dev/null and fds 1 and 2 at a
capture pipe, so user code (print, os.write(1, ...), subprocesses, input()) cannot touch the channel.
  parent -> host: {"type": "init", "apiUrl", "apiToken", "workspaceHost", "outputLimit", "sparkConf", "cwd"}
                  {"type": "execute", "id", "language": "python" | "sql", "command"}
                  {"type": "interrupt", "id"}                    (cancel: SIGINT into that command)
  host -> parent: {"type": "hello", "pid"}                       (first, before IPython loads)
                  {"type": "ready", "pid", "python", "ipython"}
                  {"type": "fatal", "message"}                   (then exit 3)
                  {"type": "done", "id", "interrupted", "results", "captured"}
An interrupt makes the channel thread send SIGINT to the main thread, so it works without the
parent being allowed to signal processes and whatever wrapper (a pyenv shim) started python3; a
SIGINT from outside works the same way. SIGINT outside user code is ignored. EOF on the channel
means the parent is gone or gave up on this context: the whole process group is killed.
"""

import sys
import os

_NO_IPYTHON = (
    "The dbxr emulator needs IPython in the Python that runs execution contexts, and {exe} "
    "(Python {ver}) cannot import it ({err}). Fix: `{exe} -m pip install ipython`, or set "
    "DBXR_EMULATOR_PYTHON to a python3 that has IPython."
)
_MARKER = "*** WARNING: max output size exceeded, skipping output. ***"
_PIP_NOTE = (
    "Note: you may need to restart the kernel using %restart_python or "
    "dbutils.library.restartPython() to use updated packages."
)
_TABLE_MAX_ROWS = 10000
_TABLE_MAX_BYTES = 2 * 1024 * 1024


def _take_private_channel(argv):
    """Returns (in_fd, out_fd, restart_state) before anything else can write to fds 0/1."""
    if len(argv) >= 2 and argv[0] == "--dbxr-restart":
        import json

        with open(argv[1], "r", encoding="utf-8") as f:
            state = json.load(f)
        os.unlink(argv[1])
        in_fd, out_fd = state["in_fd"], state["out_fd"]
        os.set_inheritable(in_fd, False)
        os.set_inheritable(out_fd, False)
        return in_fd, out_fd, state
    return os.dup(0), os.dup(1), None  # os.dup gives non-inheritable fds


def main():
    import queue

    in_fd, out_fd, restart = _take_private_channel(sys.argv[1:])
    del sys.argv[1:]
    if restart is None:
        try:
            os.setsid()  # own session: no controlling tty, and the parent can kill the whole group
        except OSError:
            pass
    channel = _Channel(in_fd, out_fd)
    # The parent may have started a wrapper (a pyenv shim, a venv launcher): this is the real pid.
    channel.send({"type": "hello", "pid": os.getpid()})
    inbox = queue.Queue()
    channel.start_reader(inbox)
    try:
        import IPython  # noqa: F401
    except Exception as e:  # ImportError, or a broken install
        msg = _NO_IPYTHON.format(exe=sys.executable, ver=sys.version.split()[0], err=e)
        channel.send({"type": "fatal", "message": msg})
        print(msg, file=sys.stderr, flush=True)
        os._exit(3)
    init = restart["init"] if restart else inbox.get()
    if init.get("type") != "init":
        raise RuntimeError("dbxr context host: expected an init message first")
    _Host(channel, init, restart, inbox).serve()


class _Channel:
    """The private JSON-lines channel to the parent."""

    def __init__(self, in_fd, out_fd):
        import threading

        self.in_fd, self.out_fd = in_fd, out_fd
        self._in = os.fdopen(in_fd, "rb", closefd=False)
        self._lock = threading.Lock()
        self.on_interrupt = lambda command_id: None  # set by _Host before any command can run

    def send(self, msg):
        import json

        data = (json.dumps(msg, ensure_ascii=True, allow_nan=False) + "\n").encode("ascii")
        with self._lock:
            try:
                view = memoryview(data)
                while view:
                    n = os.write(self.out_fd, view)
                    view = view[n:]
            except OSError:
                os._exit(0)  # the parent is gone

    def start_reader(self, inbox):
        """Reads messages on a thread (interrupts must not wait behind the running command).
        EOF means the parent died or gave up: take the process group down."""
        import json
        import signal
        import threading

        def run():
            while True:
                line = self._in.readline()
                if not line:
                    try:
                        if os.getpgrp() == os.getpid():
                            os.killpg(os.getpid(), signal.SIGKILL)
                    finally:
                        os._exit(0)
                msg = json.loads(line)
                if msg.get("type") == "interrupt":
                    self.on_interrupt(msg.get("id"))
                else:
                    inbox.put(msg)

        threading.Thread(target=run, name="dbxr-channel", daemon=True).start()


class _Sink:
    """One command's output: the head and the tail are kept, the middle is dropped past the limit.

    Real output shows the marker between a kept head and a kept tail of about equal size (a pasted
    cell output with about 25,000 characters on either side of it; hackolade/DeltaLake's API 1.2
    client splits `results.data` into a first and a last chunk around the marker)."""

    def __init__(self, limit):
        import codecs
        import collections

        self.limit = limit
        self.head_cap = limit // 2
        # One spare character: the final newline is not part of the result, so it must not count.
        self.tail_cap = limit - self.head_cap + 1
        self.head, self.head_len = [], 0
        self.tail, self.tail_len = collections.deque(), 0
        self.dropped = 0
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def feed(self, data, final=False):
        s = self.decoder.decode(data, final)
        if self.head_len < self.head_cap and s:
            take = s[: self.head_cap - self.head_len]
            self.head.append(take)
            self.head_len += len(take)
            s = s[len(take):]
        if not s:
            return
        self.tail.append(s)
        self.tail_len += len(s)
        while self.tail_len > self.tail_cap:
            excess = self.tail_len - self.tail_cap
            first = self.tail[0]
            if len(first) <= excess:
                self.tail.popleft()
                self.tail_len -= len(first)
                self.dropped += len(first)
            else:
                self.tail[0] = first[excess:]
                self.tail_len -= excess
                self.dropped += excess

    def text(self):
        head, tail = "".join(self.head), "".join(self.tail)
        if not tail:
            return _strip_final_newline(head)
        tail = _strip_final_newline(tail)
        if self.head_len + len(tail) + self.dropped <= self.limit:
            return head + tail  # nothing was dropped
        return head + "\n\n" + _MARKER + "\n\n" + tail[len(tail) - (self.limit - self.head_cap):]


def _strip_final_newline(s):
    return s[:-1] if s.endswith("\n") else s


def _limit_text(s, limit):
    sink = _Sink(limit)
    sink.feed(s.encode("utf-8", "surrogatepass"), final=True)
    return sink.text()


class _Capture:
    """Points fds 1 and 2 at one pipe (so stdout and stderr merge in write order, subprocesses
    included) and drains it on a thread into the current command's sink. A per-process random
    sentinel written after a command marks where its output ends."""

    def __init__(self):
        import secrets
        import threading

        self.read_fd, self.write_fd = os.pipe()  # both non-inheritable; fds 1 and 2 are the inheritable copies
        self.devnull = os.open(os.devnull, os.O_RDWR)
        self.sentinel = b"\x00dbxr-end-" + secrets.token_hex(12).encode("ascii") + b"\x00"
        self.sink = None
        self.lock = threading.Lock()
        self.ended = threading.Event()
        self.restore_fds()
        threading.Thread(target=self._drain, name="dbxr-capture", daemon=True).start()

    def restore_fds(self):
        """User code may have closed or redirected the standard fds; every command starts clean."""
        os.dup2(self.devnull, 0)
        os.dup2(self.write_fd, 1)
        os.dup2(self.write_fd, 2)

    def begin(self, sink):
        with self.lock:
            self.sink = sink
        self.ended.clear()

    def end(self):
        """Waits until everything written before this call has reached the sink."""
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        _flush_c_stdio()
        os.write(self.write_fd, self.sentinel)
        self.ended.wait()

    def _feed(self, data, final=False):
        with self.lock:
            if self.sink is not None and (data or final):
                self.sink.feed(data, final)

    def _drain(self):
        sent = self.sentinel
        keep = len(sent) - 1
        buf = b""
        while True:
            chunk = os.read(self.read_fd, 1 << 16)
            if not chunk:
                return
            buf += chunk
            while True:
                i = buf.find(sent)
                if i < 0:
                    break
                self._feed(buf[:i], final=True)
                with self.lock:
                    self.sink = None
                self.ended.set()
                buf = buf[i + len(sent):]
            if len(buf) > keep:  # keep a possible partial sentinel for the next read
                self._feed(buf[:-keep])
                buf = buf[-keep:]


_libc = []


def _flush_c_stdio():
    """Output that C extensions left in libc's stdio buffers belongs to this command too."""
    try:
        if not _libc:
            import ctypes

            _libc.append(ctypes.CDLL(None))
        _libc[0].fflush(None)
    except Exception:
        pass


class _NotebookExit(BaseException):
    """Raised by dbutils.notebook.exit(); a BaseException so that `except Exception` in user code
    does not swallow it."""

    def __init__(self, value):
        super().__init__(value)
        self.value = value


class _Option:
    """Scala Option as the notebook context returns it through py4j."""

    def __init__(self, value):
        self._value = value

    def get(self):
        return self._value

    def isDefined(self):
        return self._value is not None

    def getOrElse(self, default):
        return self._value if self._value is not None else default


def _not_emulated(what):
    return AttributeError(
        f"{what} is not available in the dbxr emulator (it has no Spark and no Databricks runtime); "
        "run this on a real cluster"
    )


class _JavaObject:
    """A py4j-looking object whose missing members say what the emulator cannot do."""

    _path = "object"

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        raise _not_emulated(f"{self._path}.{name}")


class _NotebookContext(_JavaObject):
    _path = "dbutils.notebook.entry_point.getDbutils().notebook().getContext()"

    def __init__(self, api_url, api_token):
        self._url, self._token = api_url, api_token

    def apiUrl(self):
        return _Option(self._url)

    def apiToken(self):
        return _Option(self._token)


class _JavaNotebook(_JavaObject):
    _path = "dbutils.notebook.entry_point.getDbutils().notebook()"

    def __init__(self, ctx):
        self._ctx = ctx

    def getContext(self):
        return self._ctx


class _JavaDbutils(_JavaObject):
    _path = "dbutils.notebook.entry_point.getDbutils()"

    def __init__(self, ctx):
        self._notebook = _JavaNotebook(ctx)

    def notebook(self):
        return self._notebook


class _EntryPoint(_JavaObject):
    _path = "dbutils.notebook.entry_point"

    def __init__(self, ctx):
        self._dbutils = _JavaDbutils(ctx)

    def getDbutils(self):
        return self._dbutils


class _NotebookUtils(_JavaObject):
    _path = "dbutils.notebook"

    def __init__(self, ctx):
        self.entry_point = _EntryPoint(ctx)

    def exit(self, value):
        raise _NotebookExit(str(value))


class _LibraryUtils(_JavaObject):
    _path = "dbutils.library"

    def __init__(self, host):
        self._host = host

    def restartPython(self):
        self._host.restart_requested = True


class _DBUtils(_JavaObject):
    _path = "dbutils"

    def __init__(self, host, ctx):
        self.notebook = _NotebookUtils(ctx)
        self.library = _LibraryUtils(host)

    def __repr__(self):
        return "<dbxr emulator dbutils: notebook.exit, notebook.entry_point context, library.restartPython>"


class SparkNoSuchElementException(Exception):
    pass


class _RuntimeConf:
    _missing = object()

    def __init__(self, values):
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
        # PySpark stores strings; booleans become "true"/"false" as in the JVM.
        self._values[key] = str(value).lower() if isinstance(value, bool) else str(value)

    def unset(self, key):
        self._values.pop(key, None)

    def getAll(self):
        return dict(self._values)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        raise _not_emulated(f"spark.conf.{name}")


class _SparkSession:
    """Only `spark.conf` exists: the emulator runs Python, not Spark."""

    def __init__(self, conf):
        self.conf = _RuntimeConf(conf)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        raise _not_emulated(f"spark.{name}")

    def __repr__(self):
        return "<dbxr emulator SparkSession stand-in: only spark.conf is available>"


def _display_html(html):
    """Databricks renders HTML in the notebook UI; API 1.2 has no result type for it."""
    if not isinstance(html, str):
        raise TypeError(f"displayHTML() expects a str, got {type(html).__name__}")


class _Host:
    def __init__(self, channel, init, restart, inbox):
        import threading

        self.channel = channel
        self.init = init
        self.limit = int(init.get("outputLimit") or 50000)
        self.start_dir = init.get("cwd") or os.getcwd()
        self.inbox = inbox
        self.mode = None  # "python" | "sql" while user code runs
        self.current_id = None
        self.cancelled_early = set()
        self.state_lock = threading.Lock()
        self.images, self.error, self.exit_value = [], None, None
        self.interrupted = False
        self.interrupted_at = 0.0
        self.restart_requested = False
        self.pending_done = restart.get("pending") if restart else None
        self.capture = _Capture()
        self._install_sigint()
        channel.on_interrupt = self.interrupt
        os.chdir(self.start_dir)
        # `python -c` puts the CWD first on sys.path; an API context has no caller dir there.
        while sys.path and sys.path[0] in ("", os.getcwd()):
            sys.path.pop(0)
        self.initial_sys_path = list(sys.path)
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.reconfigure(encoding="utf-8")
            except Exception:
                pass
        self.sql = self._open_sql(restart.get("sqlite") if restart else None)
        self.shell = self._make_shell()

    # ----- setup -----

    def _install_sigint(self):
        import signal

        signal.signal(signal.SIGINT, self._on_sigint)

    def interrupt(self, command_id):
        """Runs on the channel thread. The signal goes to the main thread: a process-directed
        signal could land on this thread and leave the main thread asleep in time.sleep()."""
        import signal
        import threading

        with self.state_lock:
            if self.current_id != command_id:
                self.cancelled_early.add(command_id)  # still queued in the inbox
                return
            if self.mode is None:
                return

        def keep_interrupting():
            # A KeyboardInterrupt that lands while IPython is still preparing the cell can be swallowed
            # there, and the user's code then runs on: repeat the signal (spaced, see _on_sigint) until
            # the command has ended.
            import time

            for _ in range(60):
                with self.state_lock:
                    if self.current_id != command_id or self.mode is None:
                        return
                    signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
                time.sleep(1.0)

        threading.Thread(target=keep_interrupting, daemon=True).start()

    def _on_sigint(self, signum, frame):
        # Raise once per command: a second SIGINT could otherwise land in the host's own
        # exception handling. Outside user code SIGINT is ignored.
        import time

        now = time.monotonic()
        if self.mode == "python" and (not self.interrupted or now - self.interrupted_at > 0.9):
            self.interrupted = True
            self.interrupted_at = now
            raise KeyboardInterrupt
        if self.mode == "sql":
            self.interrupted = True  # the sqlite progress handler aborts the statement

    def _open_sql(self, snapshot_path):
        import sqlite3

        conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        if snapshot_path:
            try:
                with open(snapshot_path, "rb") as f:
                    conn.deserialize(f.read())
            finally:
                os.unlink(snapshot_path)
        # Runs Python during long statements, which lets a pending SIGINT be seen there.
        conn.set_progress_handler(lambda: 1 if self.interrupted else 0, 1000)
        return conn

    def _make_shell(self):
        from IPython.core.interactiveshell import InteractiveShell
        from IPython.core.displayhook import DisplayHook
        from IPython.core.displaypub import DisplayPublisher
        from traitlets.config import Config

        host = self

        class Publisher(DisplayPublisher):
            def publish(self, data, metadata=None, source=None, **kwargs):
                if not host._take_image(data):
                    super().publish(data, metadata=metadata, source=source, **kwargs)

        class Hook(DisplayHook):
            def __call__(self, result=None):
                if result is not None and not self.quiet():
                    format_dict, _ = self.compute_format_data(result)
                    if host._take_image(format_dict):
                        self.check_for_underscore()
                        self.update_user_ns(result)
                        self.fill_exec_result(result)
                        return
                super().__call__(result)

        cfg = Config()
        cfg.HistoryManager.enabled = False  # no sqlite history file in the user's home
        cfg.InteractiveShell.colors = "Neutral"  # ANSI tracebacks, as Databricks sends them
        shell = InteractiveShell.instance(config=cfg, display_pub_class=Publisher, displayhook_class=Hook)
        self._name_cells(shell)
        shell._showtraceback = self._keep_traceback
        shell.show_usage_error = self._keep_usage_error
        shell.set_custom_exc((_NotebookExit,), lambda *a, **k: None)
        # `!cmd` without a pty: a command has no terminal, and the child writes straight into the
        # capture pipe (IPython's default pexpect runner would turn every newline into "\r\n").
        shell.system = shell.system_raw
        # exit() and quit() end the IPython terminal app; a context has none, so they do nothing.
        shell.ask_exit = lambda: None
        shell.register_magic_function(self._pip_magic, "line", "pip")
        shell.register_magic_function(self._restart_magic, "line", "restart_python")
        self._seed_namespace(shell)
        return shell

    def _name_cells(self, shell):
        """Cells are named `<command-N>` and shown as `File <command-N>, line L`, as in Databricks
        tracebacks (IPython would say `Cell In[n]`)."""
        import random

        original = shell.compile.format_code_name
        shell.compile.get_code_name = lambda raw, transformed, number: (
            f"<command-{random.randrange(10**15, 10**16)}>"
        )
        shell.compile.format_code_name = lambda name: (
            ("File", name) if name.startswith("<command-") else original(name)
        )

    def _seed_namespace(self, shell):
        from IPython.display import display

        ctx = _NotebookContext(self.init.get("apiUrl"), self.init.get("apiToken"))
        conf = {"spark.databricks.workspaceUrl": self.init.get("workspaceHost")}
        conf.update(self.init.get("sparkConf") or {})
        shell.user_ns.update(
            {
                "dbutils": _DBUtils(self, ctx),
                "spark": _SparkSession(conf),
                "display": display,
                "displayHTML": _display_html,
            }
        )

    # ----- IPython hooks -----

    def _take_image(self, data):
        for mime in ("image/png", "image/jpeg"):
            value = data.get(mime) if data else None
            if value is None:
                continue
            if isinstance(value, (bytes, bytearray)):
                import base64

                value = base64.b64encode(value).decode("ascii")
            self.images.append(f"data:{mime};base64,{value}")
            return True
        return False

    def _keep_traceback(self, etype, evalue, stb):
        self.error = (etype, evalue, self.shell.InteractiveTB.stb2text(stb))

    def _keep_usage_error(self, exc):
        self.error = (type(exc), exc, f"\x1b[0;31mUsageError\x1b[0m: {exc}")

    def _pip_magic(self, line):
        """Databricks runs `pip --disable-pip-version-check <line>` and raises on failure."""
        import shlex
        import subprocess

        shown = "pip --disable-pip-version-check " + line
        cmd = f"{shlex.quote(sys.executable)} -m pip --disable-pip-version-check {line}"
        rc = subprocess.call(cmd, shell=True)
        if rc != 0:
            raise subprocess.CalledProcessError(rc, shown)
        print(_PIP_NOTE)

    def _restart_magic(self, line):
        self.restart_requested = True

    # ----- the command loop -----

    def serve(self):
        import IPython

        self.channel.send(
            {
                "type": "ready",
                "pid": os.getpid(),
                "python": sys.version.split()[0],
                "ipython": IPython.__version__,
            }
        )
        if self.pending_done is not None:
            self.channel.send(self.pending_done)
            self.pending_done = None
        while True:
            msg = self.inbox.get()
            if msg.get("type") == "execute":
                self.execute(msg)

    def execute(self, msg):
        self.images, self.error, self.exit_value = [], None, None
        self.interrupted = False
        self.interrupted_at = 0.0
        sink = _Sink(self.limit)
        self.capture.restore_fds()
        self._install_sigint()
        self.capture.begin(sink)
        language = msg.get("language") or "python"
        table = None
        try:
            with self.state_lock:  # against the channel thread's interrupt()
                early = msg["id"] in self.cancelled_early
                self.cancelled_early.discard(msg["id"])
                self.current_id = msg["id"]
                self.mode = language  # from here on SIGINT raises KeyboardInterrupt
            if early:
                self.interrupted = True
                raise KeyboardInterrupt  # cancelled before it started: nothing runs
            if language == "sql":
                table = self._run_sql(msg.get("command") or "")
            else:
                self._run_python(msg.get("command") or "")
        except KeyboardInterrupt as e:
            self.interrupted = True
            if self.error is None:
                self.error = (KeyboardInterrupt, e, "\x1b[0;31mKeyboardInterrupt\x1b[0m: ")
        finally:
            # A plain store: no signal handler can run before it, and none raises after it.
            self.mode = None
        self.capture.end()
        captured = sink.text()
        done = {
            "type": "done",
            "id": msg["id"],
            "interrupted": self.interrupted,
            "results": self._results(table, captured),
            "captured": captured,
        }
        if self.restart_requested:
            self.restart_requested = False
            self._restart(done)
        else:
            self.channel.send(done)

    def _run_python(self, code):
        self.shell.exit_now = False
        result = self.shell.run_cell(code, store_history=True)
        err = result.error_before_exec or result.error_in_exec
        if isinstance(err, _NotebookExit):
            self.exit_value, self.error = err.value, None
        elif isinstance(err, KeyboardInterrupt) and self.interrupted:
            pass  # reported as an interrupt, with the traceback kept in self.error
        elif err is not None and self.error is None:
            self.error = (type(err), err, "")

    def _results(self, table, captured):
        if self.error is not None:
            return _error_results(*self.error)
        if table is not None:
            return table
        if self.exit_value is not None:
            return {"resultType": "text", "data": _limit_text(self.exit_value, self.limit)}
        if len(self.images) == 1:
            return {"resultType": "image", "fileName": self.images[0]}
        if self.images:
            return {"resultType": "images", "fileNames": list(self.images)}
        return {"resultType": "text", "data": captured}

    # ----- SQL on sqlite3 -----

    def _run_sql(self, text):
        import sqlite3

        cursor = None
        try:
            for statement in _split_sql(text):
                cursor = self.sql.execute(statement)
            if cursor is None:
                return _table([], [], False)
            if cursor.description is None:
                return _dml_table(text, cursor)
            names = [d[0] for d in cursor.description]
            rows, size = [], 0
            truncated = False
            for row in cursor:
                size += len(repr(row))
                if len(rows) >= _TABLE_MAX_ROWS or size > _TABLE_MAX_BYTES:
                    truncated = True
                    break
                rows.append(row)
            if self.interrupted:
                raise KeyboardInterrupt
            return _table(names, rows, truncated)
        except sqlite3.Error as e:
            if self.interrupted:
                raise KeyboardInterrupt from None
            stb = self.shell.InteractiveTB.structured_traceback(type(e), e, None)
            self.error = (type(e), e, self.shell.InteractiveTB.stb2text(stb))
            return None

    # ----- restartPython -----

    def _restart(self, done):
        """A fresh interpreter in the same process (same pid, same channel): globals, imports,
        sys.path and the CWD go; installed packages and the SQL tables stay."""
        source = _own_source()
        if source is not None:
            try:
                self._exec_fresh(source, done)
            except Exception:
                pass  # could not exec (e.g. the interpreter moved): fall back
        self._reset_in_process()
        self.channel.send(done)

    def _exec_fresh(self, source, done):
        import json
        import signal

        snapshot = self._snapshot_sql()
        state_path = _write_private_file(
            "dbxr-restart-",
            json.dumps(
                {
                    "init": self.init,
                    "in_fd": self.channel.in_fd,
                    "out_fd": self.channel.out_fd,
                    "pending": done,
                    "sqlite": snapshot,
                }
            ).encode("utf-8"),
        )
        # An ignored SIGINT stays ignored across exec, so a cancel cannot kill the new
        # interpreter before it installs its own handler.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        os.set_inheritable(self.channel.in_fd, True)
        os.set_inheritable(self.channel.out_fd, True)
        os.dup2(self.capture.devnull, 1)
        os.dup2(self.capture.devnull, 2)
        try:
            os.execv(sys.executable, [sys.executable, "-u", "-c", source, "--dbxr-restart", state_path])
        except OSError:
            for path in (state_path, snapshot):
                if path:
                    os.unlink(path)
            os.set_inheritable(self.channel.in_fd, False)
            os.set_inheritable(self.channel.out_fd, False)
            self.capture.restore_fds()
            self._install_sigint()
            raise

    def _snapshot_sql(self):
        """The SQL tables as a file for the next interpreter, or None (nothing to keep, or a
        Python without Connection.serialize, < 3.11)."""
        try:
            data = self.sql.serialize()  # raises for a database that never had a table
        except Exception:
            return None
        return _write_private_file("dbxr-sql-", data)

    def _reset_in_process(self):
        """For Pythons without sys.orig_argv (< 3.10): the closest in-process equivalent."""
        self.shell.reset(new_session=False)
        self._seed_namespace(self.shell)
        sys.path[:] = self.initial_sys_path
        os.chdir(self.start_dir)


def _write_private_file(prefix, data):
    import tempfile

    fd, path = tempfile.mkstemp(prefix=prefix)  # mode 0600
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return path


def _own_source():
    argv = getattr(sys, "orig_argv", None)
    if not argv or "-c" not in argv:
        return None
    i = argv.index("-c")
    return argv[i + 1] if i + 1 < len(argv) else None


def _error_results(etype, evalue, cause):
    import html

    name = getattr(etype, "__name__", str(etype))
    message = str(evalue)
    summary = f"<span class='ansi-red-fg'>{html.escape(name)}</span>"
    if message:
        summary += ": " + html.escape(message)
    results = {"resultType": "error", "summary": summary}
    if cause:
        results["cause"] = cause
    return results


def _split_sql(text):
    """Statements as sqlite3 sees them (semicolons inside strings and comments are not ends)."""
    import sqlite3

    statements, current = [], ""
    for ch in text:
        current += ch
        if ch == ";" and sqlite3.complete_statement(current):
            if current.strip(" \t\r\n;"):
                statements.append(current)
            current = ""
    if current.strip():
        statements.append(current)
    return statements


def _json_cell(value):
    import base64
    import math

    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


def _spark_type(values):
    kinds = {type(v) for v in values if v is not None}
    if not kinds:
        return "string"
    if kinds <= {int}:
        return "long"
    if kinds <= {int, float}:
        return "double"
    if kinds <= {bytes}:
        return "binary"
    return "string"


def _table(names, rows, truncated):
    """Schema types are JSON-encoded Spark type names (`"\\"long\\""`), as with isJsonSchema."""
    import json

    columns = list(zip(*rows)) if rows else [() for _ in names]
    schema = [{"name": n, "type": json.dumps(_spark_type(c)), "metadata": "{}"} for n, c in zip(names, columns)]
    return {
        "resultType": "table",
        "data": [[_json_cell(v) for v in row] for row in rows],
        "schema": schema,
        "truncated": truncated,
        "isJsonSchema": True,
    }


def _dml_table(text, cursor):
    """What Databricks SQL answers for DML: counts as a one-row table (DDL gives no rows)."""
    if cursor.rowcount is None or cursor.rowcount < 0:
        return _table([], [], False)
    count = cursor.rowcount
    if _split_sql(text)[-1].lstrip().upper().startswith("INSERT"):
        return _table(["num_affected_rows", "num_inserted_rows"], [(count, count)], False)
    return _table(["num_affected_rows"], [(count,)], False)


if __name__ == "__main__":
    main()

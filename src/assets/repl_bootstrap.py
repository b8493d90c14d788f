# dbxr REPL bootstrap: `dbxr create` sends this file, as one command, into every new API 1.2
# execution context (an IPython shell on Databricks and in dbxr's emulator). See README.md here.
#
# It defines exactly four names in the user's namespace:
#   sub_llm(prompt, ...)          one chat completion from a Model Serving endpoint -> str (429/5xx retried)
#   sub_llm_batch(prompts, ...)   many of them on a thread pool -> list[str], in input order
#   sub_llm_usage(reset=False)    the token usage of those calls so far -> dict
#   _dbxr                         dbxr's state and its protocol:
#       _dbxr.output_chunk(offset=0, size=30000)  prints one JSON line with a slice of the copy of the
#                                 previous command's output (Databricks drops that output when the
#                                 command raises): {"total","offset","data" (base64),"cut"}
#       _dbxr.output_zchunk(offset, size)  the same slice zlib-compressed, as many bytes as fit one
#                                 line of _dbxr.max_zline characters; a negative offset counts from
#                                 the end: {"total","offset","n","z" (base64 of zlib),"cut","written"}
#       _dbxr.ping()              prints "dbxr-bootstrap <version>"
#       _dbxr.status()            prints one JSON line: version, whether the hook and the tees are on
#       _dbxr.version, _dbxr.max_bytes, _dbxr.chunk_size, _dbxr.max_chunk, _dbxr.max_zline,
#       _dbxr.llm_timeout
#
# How the copy works: a tee over sys.stdout and sys.stderr writes through to the original stream and
# appends the text (UTF-8, in write order, both streams in one copy) to the current command's copy,
# capped at _dbxr.max_bytes (head and tail kept, a marker where the middle was cut). IPython's
# pre_run_cell event starts a new copy for every command and keeps the finished one as "previous",
# and puts the tees back if something replaced sys.stdout or sys.stderr. A command that calls
# _dbxr.output_chunk(), ping() or status(), and this bootstrap itself, are dbxr's own: their copy is
# dropped and "previous" stays, so paging through a copy takes as many follow-ups as it needs.
# Not captured: writes to the file descriptors (subprocesses, !cmd, %sh, %pip, C code),
# sys.stdout.buffer, and streams that a logger or library saved before the bootstrap ran.
#
# The command prints nothing, ends with a bare None (no Out[n]), and can be sent again at any time:
# a second run replaces the code and keeps the copy of the previous command.


def _dbxr_bootstrap(ns):
    import base64
    import json
    import sys
    import threading
    import zlib

    version = "2"

    def char_start(b, k):
        """k, moved back to the start of the UTF-8 character that holds byte k."""
        while 0 < k < len(b) and (b[k] & 0xC0) == 0x80:
            k -= 1
        return k

    class Copy(object):
        """One command's output as UTF-8 bytes: all of it up to cap, else its head and its tail."""

        def __init__(self, cap):
            cap = max(int(cap), 2)
            self.head_cap = cap // 2
            self.tail_cap = cap - self.head_cap
            self.head = bytearray()
            self.head_open = True
            self.tail = bytearray()
            self.written = 0
            self.frozen = None

        def add(self, b):
            self.written += len(b)
            if self.head_open:
                room = self.head_cap - len(self.head)
                if len(b) <= room:
                    self.head += b
                    return
                k = char_start(b, room)
                self.head += b[:k]
                b = b[k:]
                self.head_open = False  # from now on everything goes to the tail, in order
            self.tail += b
            if len(self.tail) > self.tail_cap + 65536:
                del self.tail[: len(self.tail) - self.tail_cap]  # cheap: bytearray drops its front in place

        def data(self):
            """(bytes, cut): the kept text, with a marker where the middle was dropped."""
            if self.frozen is None:
                tail = self.tail
                start = max(0, len(tail) - self.tail_cap)
                if self.written > len(self.head) + len(tail) or start:
                    while start < len(tail) and (tail[start] & 0xC0) == 0x80:
                        start += 1
                dropped = self.written - len(self.head) - (len(tail) - start)
                if dropped:
                    mark = ("\n\n*** dbxr: %d bytes of output cut here ***\n\n" % dropped).encode("ascii")
                    self.frozen = (bytes(self.head) + mark + bytes(tail[start:]), True)
                else:
                    self.frozen = (bytes(self.head) + bytes(tail), False)
                self.head = self.tail = None  # only a finished command's copy is read: one copy in memory
            return self.frozen

    class Kept(object):
        """A copy carried over from an earlier bootstrap."""

        def __init__(self, data, cut, written=None):
            self.frozen = (bytes(data), bool(cut))
            self.written = len(self.frozen[0]) if written is None else int(written)

        def data(self):
            return self.frozen

    class Tee(object):
        """Writes through to the stream it wraps and copies str writes into the current command's copy.
        A write that reaches a tee through another tee (a user wrapper around ours) is copied once."""

        _dbxr_tee = True

        def __init__(self, state, orig):
            self._dbxr_state = state
            self._dbxr_orig = orig

        def write(self, s):
            st = self._dbxr_state
            guard = st._guard
            if not st._live or getattr(guard, "busy", False):
                return self._dbxr_orig.write(s)
            guard.busy = True
            try:
                if isinstance(s, str) and s:
                    st._record(s)
                return self._dbxr_orig.write(s)
            finally:
                guard.busy = False

        def writelines(self, lines):
            for line in lines:
                self.write(line)

        def flush(self):
            return self._dbxr_orig.flush()

        def __getattr__(self, name):
            if name.startswith("_dbxr_"):
                raise AttributeError(name)
            return getattr(self._dbxr_orig, name)

        def __repr__(self):
            return "<dbxr tee over %r>" % (self._dbxr_orig,)

    def is_tee(obj):
        return getattr(type(obj), "_dbxr_tee", False) is True

    def get_shell():
        try:
            from IPython import get_ipython

            return get_ipython()
        except Exception:
            return None

    class Dbxr(object):
        """dbxr's state in this execution context. Public: output_chunk(), ping(), status(), version,
        max_bytes (cap of one command's copy), chunk_size (output_chunk's default size), max_chunk (its
        largest), llm_timeout (seconds per sub_llm request), llm_retries (retries of a 429/5xx or a
        dropped connection), llm_backoff_cap (longest wait between them, seconds)."""

        _dbxr_state_class = True

        def __init__(self):
            self.version = version
            self.max_bytes = 20 * 1024 * 1024
            self.chunk_size = 30000
            # 36,000 bytes are 48,000 base64 characters: the line stays under the 50,000-character limit.
            # Raise it only where spark.databricks.driver.maxReplOutputLength is raised.
            self.max_chunk = 36000
            # output_zchunk's line, all of it: under the 50,000-character limit with room to spare.
            self.max_zline = 48000
            self.llm_timeout = 300.0
            # sub_llm: retries of a 429/5xx or a dropped connection (each after Retry-After or a backoff),
            # and the token usage of every call since the bootstrap (sub_llm_usage()).
            self.llm_retries = 4
            self.llm_backoff_cap = 30.0
            self._usage = {"calls": 0, "failed_calls": 0, "retries": 0, "prompt_tokens": 0,
                           "completion_tokens": 0, "total_tokens": 0}
            # Reentrant: a finalizer or signal handler that prints while this thread holds it must not hang.
            self._lock = threading.RLock()
            self._guard = threading.local()
            self._live = True
            self._current = Copy(self.max_bytes)
            self._previous = Copy(0)
            self._internal = True  # this bootstrap's own command
            self._cells = 0
            self._hooked = False

            def on_pre_run_cell(info=None):
                try:
                    self._next_command()
                except Exception:
                    pass  # IPython would print a callback error into the user's output

            on_pre_run_cell._dbxr_hook = True
            self._hook = on_pre_run_cell

        def __repr__(self):
            return "<dbxr bootstrap %s: _dbxr.output_chunk(offset, size), _dbxr.ping(), _dbxr.status()>" % (
                self.version
            )

        # ----- protocol -----

        def output_chunk(self, offset=0, size=None):
            """Prints {"total","offset","data","cut"} for bytes [offset, offset+size) of the previous
            command's copy; data is base64. size is capped so that the line fits the output limit."""
            self._internal = True
            size = self.chunk_size if size is None else size
            size = max(0, min(int(size), int(self.max_chunk)))
            offset = max(0, int(offset))
            with self._lock:
                data, cut = self._previous.data()
            piece = base64.b64encode(data[offset : offset + size]).decode("ascii")
            line = {"total": len(data), "offset": offset, "data": piece, "cut": cut}
            print(json.dumps(line, separators=(",", ":")))

        def output_zchunk(self, offset=0, size=None):
            """Prints {"total","offset","n","z","cut","written"}: bytes [offset, offset+n) of the previous
            command's copy, zlib-compressed and base64-encoded in z, with n (at most size) as large as
            fits one line of max_zline characters. A negative offset counts from the end of the copy.
            written is what the command printed in all (more than total when the middle was cut)."""
            self._internal = True
            with self._lock:
                data, cut = self._previous.data()
                written = getattr(self._previous, "written", len(data))
            total = len(data)
            offset = int(offset)
            if offset < 0:
                offset = max(0, total + offset)
            offset = min(offset, total)
            end = total if size is None else min(total, offset + max(0, int(size)))
            # Compressed bytes whose base64 fits the line beside the other fields (16 for the last flush).
            budget = (max(int(self.max_zline) - 200, 400) // 4) * 3 - 16
            view = memoryview(data)
            comp = zlib.compressobj(6)
            parts = []
            used = 0
            pos = offset
            piece = 65536
            while pos < end:
                n = min(piece, end - pos)
                trial = comp.copy()
                z = trial.compress(view[pos : pos + n]) + trial.flush(zlib.Z_SYNC_FLUSH)
                if used + len(z) <= budget:
                    comp = trial
                    parts.append(z)
                    used += len(z)
                    pos += n
                    piece = min(piece * 2, 8 * 1024 * 1024)  # compresses well: take more at once
                elif piece > 64:
                    piece //= 2
                else:
                    break
            parts.append(comp.flush())
            z = base64.b64encode(b"".join(parts)).decode("ascii")
            line = {"total": total, "offset": offset, "n": pos - offset, "z": z, "cut": cut, "written": written}
            print(json.dumps(line, separators=(",", ":")))

        def ping(self):
            """Prints "dbxr-bootstrap <version>"."""
            self._internal = True
            print("dbxr-bootstrap " + self.version)

        def status(self):
            """Prints one JSON line: whether the pre_run_cell hook and the tees are in place."""
            self._internal = True
            tees = {}
            for name in ("stdout", "stderr"):
                s = getattr(sys, name, None)
                tees[name] = is_tee(s) and s._dbxr_state is self
            info = {"version": self.version, "hooked": self._hooked, "commands": self._cells, "tee": tees}
            info["max_bytes"] = self.max_bytes
            print(json.dumps(info, separators=(",", ":")))

        # ----- capture -----

        def _record(self, s):
            try:
                b = s.encode("utf-8", "replace")
                with self._lock:
                    self._current.add(b)
            except Exception:
                pass

        def _next_command(self):
            with self._lock:
                self._cells += 1
                if not self._internal:
                    self._previous = self._current
                self._current = Copy(self.max_bytes)
                self._internal = False
            self._wrap_streams()

        def _wrap_streams(self):
            for name in ("stdout", "stderr"):
                s = getattr(sys, name, None)
                if s is None or (is_tee(s) and s._dbxr_state is self):
                    continue
                setattr(sys, name, Tee(self, s))

        def _install(self):
            shell = get_shell()
            if shell is None:
                return  # no IPython: no per-command hook, so no copy (output_chunk reports 0 bytes)
            for cb in list(shell.events.callbacks.get("pre_run_cell", [])):
                if getattr(cb, "_dbxr_hook", False) is True:
                    shell.events.unregister("pre_run_cell", cb)
            shell.events.register("pre_run_cell", self._hook)
            self._hooked = True
            self._wrap_streams()

        def _export_previous(self):
            with self._lock:
                data, cut = self._previous.data()
                return data, cut, getattr(self._previous, "written", len(data))

    def uninstall_old():
        """Takes an earlier bootstrap's tees and hook out; returns its state (or None)."""
        old = ns.get("_dbxr")
        if getattr(type(old), "_dbxr_state_class", False) is not True:
            old = None
        for name in ("stdout", "stderr"):
            s = getattr(sys, name, None)
            changed = False
            while is_tee(s):
                st = s.__dict__.get("_dbxr_state")
                if old is None:
                    old = st  # the namespace was reset but the tees stayed
                if st is not None:
                    st._live = False
                s = s.__dict__.get("_dbxr_orig")
                changed = True
            if changed:
                setattr(sys, name, s)
        shell = get_shell()
        if shell is not None:
            for cb in list(shell.events.callbacks.get("pre_run_cell", [])):
                if getattr(cb, "_dbxr_hook", False) is True:
                    shell.events.unregister("pre_run_cell", cb)
        if old is not None:
            old._live = False
        return old

    # ----- sub_llm -----

    def connection():
        __tracebackhide__ = True
        dbutils = ns.get("dbutils")
        if dbutils is None:
            raise RuntimeError(
                "sub_llm: `dbutils` is not defined; sub_llm runs in a Databricks execution context"
            )
        try:
            ctx = dbutils.notebook.entry_point.getDbutils().notebook().getContext()
            url, token = ctx.apiUrl().get(), ctx.apiToken().get()
        except Exception as e:
            raise RuntimeError(
                "sub_llm: cannot read the workspace URL and token from the notebook context: %s" % (e,)
            ) from None
        if not url or not token:
            raise RuntimeError("sub_llm: the notebook context has no workspace URL or API token")
        return str(url).rstrip("/"), str(token)

    def http_detail(err):
        try:
            raw = err.read(65536)
        except Exception:
            raw = b""
        finally:
            err.close()
        text = raw.decode("utf-8", "replace").strip()
        try:
            body = json.loads(text)
        except ValueError:
            body = None
        if isinstance(body, dict):
            message = body.get("message") or body.get("error") or body.get("detail")
            if isinstance(message, dict):
                message = message.get("message") or json.dumps(message)
            code = body.get("error_code")
            if message and code:
                return "%s: %s" % (code, message)
            if message:
                return str(message)
        text = " ".join(text.split())
        if len(text) > 1000:
            text = text[:1000] + "..."
        return text or str(getattr(err, "reason", "") or "no message")

    def answer_of(raw, endpoint):
        """(text, usage dict) of a chat answer."""
        __tracebackhide__ = True
        try:
            body = json.loads(raw.decode("utf-8"))
            choice = body["choices"][0]
            if "message" not in choice and isinstance(choice.get("text"), str):
                content = choice["text"]  # a completions-style answer
            else:
                content = choice["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            shown = raw[:300].decode("utf-8", "replace")
            raise RuntimeError(
                "sub_llm: endpoint %r answered without choices[0].message.content: %s" % (endpoint, shown)
            ) from None
        if isinstance(content, list):  # content parts, e.g. [{"type": "text", "text": "..."}]
            parts = [p for p in content if isinstance(p, dict) and p.get("type") == "text"]
            content = "".join(str(p.get("text", "")) for p in parts)
        usage = body.get("usage") if isinstance(body.get("usage"), dict) else {}
        return ("" if content is None else str(content)), usage

    def count(**kw):
        with state._lock:
            for k, v in kw.items():
                try:
                    state._usage[k] += int(v or 0)
                except (TypeError, ValueError):
                    pass

    def retry_delay(attempt, retry_after):
        import random

        if retry_after is not None:
            try:
                return min(float(retry_after), state.llm_backoff_cap) + random.random() * 0.25
            except ValueError:
                pass
        return min(state.llm_backoff_cap, 0.5 * 2 ** (attempt - 1)) * (0.5 + 0.5 * random.random())

    def invoke(conn, prompt, endpoint, max_tokens, system, temperature, timeout=None):
        __tracebackhide__ = True
        import socket
        import time
        import urllib.error
        import urllib.parse
        import urllib.request

        base, token = conn
        url = "%s/serving-endpoints/%s/invocations" % (base, urllib.parse.quote(str(endpoint), safe=""))
        messages = [{"role": "system", "content": system}] if system else []
        messages.append({"role": "user", "content": prompt})
        payload = json.dumps({"messages": messages, "max_tokens": max_tokens, "temperature": temperature})
        host = (urllib.parse.urlsplit(url).hostname or "").lower()
        if host in ("127.0.0.1", "localhost", "::1"):
            # No proxy can reach this machine's loopback (the emulator).
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        else:
            opener = urllib.request.build_opener()
        timeout = state.llm_timeout if timeout is None else float(timeout)
        attempt = 0
        while True:
            attempt += 1
            request = urllib.request.Request(
                url,
                data=payload.encode("utf-8"),
                method="POST",
                headers={
                    "Authorization": "Bearer " + token,
                    "Content-Type": "application/json",
                    "Accept": "application/json",
                    "User-Agent": "dbxr-bootstrap/" + version,
                },
            )
            retry_after = None
            try:
                with opener.open(request, timeout=timeout) as response:
                    raw = response.read()
            except urllib.error.HTTPError as e:
                retryable = e.code == 429 or 500 <= e.code <= 599
                retry_after = e.headers.get("Retry-After") if e.headers is not None else None
                message = "sub_llm: endpoint %r returned HTTP %d: %s" % (endpoint, e.code, http_detail(e))
            except (urllib.error.URLError, OSError) as e:
                reason = getattr(e, "reason", e)
                if isinstance(reason, socket.timeout) or isinstance(e, socket.timeout):
                    # Not retried: the model may still be writing that long answer.
                    retryable = False
                    message = "sub_llm: endpoint %r did not answer within %g s" % (endpoint, timeout)
                else:
                    # A dropped or reset connection is worth another try; nothing listening is not.
                    retryable = not isinstance(reason, ConnectionRefusedError)
                    message = "sub_llm: cannot reach endpoint %r at %s: %s" % (endpoint, url, reason)
            else:
                text, usage = answer_of(raw, endpoint)
                count(
                    calls=1,
                    prompt_tokens=usage.get("prompt_tokens"),
                    completion_tokens=usage.get("completion_tokens"),
                    total_tokens=usage.get("total_tokens"),
                )
                return text
            if not retryable or attempt > int(state.llm_retries):
                count(calls=1, failed_calls=1)
                if attempt > 1:
                    message += " (after %d attempts)" % attempt
                raise RuntimeError(message)  # outside the except blocks: no chained urllib traceback
            count(retries=1)
            time.sleep(retry_delay(attempt, retry_after))

    def sub_llm(prompt, endpoint="default-llm-endpoint", max_tokens=1024, system="", temperature=0.0, timeout=None):
        """One chat completion from a Databricks Model Serving endpoint; returns its text.

        POSTs {"messages": [system (when given), user], "max_tokens", "temperature"} to
        <workspace>/serving-endpoints/<endpoint>/invocations with this context's own token, and
        returns choices[0].message.content. A 429 or 5xx answer, or a dropped connection, is retried
        (_dbxr.llm_retries times, after Retry-After or an exponential backoff); then, or on any other
        HTTP error, RuntimeError names the endpoint, the status and the server's message. Each request
        times out after `timeout` seconds (default _dbxr.llm_timeout, 300). Token usage adds up in
        sub_llm_usage()."""
        __tracebackhide__ = True  # IPython leaves dbxr's frames out of the traceback
        return invoke(connection(), prompt, endpoint, max_tokens, system, temperature, timeout)

    def sub_llm_batch(
        prompts,
        endpoint="default-llm-endpoint",
        max_tokens=1024,
        system="",
        temperature=0.0,
        max_workers=8,
        on_error="raise",
        timeout=None,
    ):
        """sub_llm() over many prompts on a pool of max_workers threads; returns the texts in the order
        of the prompts, each call retried as sub_llm retries.

        Every prompt is asked, even when some fail. on_error="none" puts None where a call failed;
        on_error="raise" (the default) then raises RuntimeError("sub_llm_batch: K of N prompts
        failed; first: prompts[i]: ...") whose .results holds the texts (None where failed), .errors
        maps each failed index to its message, and .index is the first failed index."""
        __tracebackhide__ = True
        from concurrent.futures import ThreadPoolExecutor

        if on_error not in ("raise", "none"):
            raise ValueError('sub_llm_batch: on_error must be "raise" or "none", not %r' % (on_error,))
        prompts = list(prompts)
        results = [None] * len(prompts)
        if not prompts:
            return results
        conn = connection()
        workers = len(prompts) if max_workers is None else max(1, min(int(max_workers), len(prompts)))
        errors = {}
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sub_llm") as pool:
            futures = [
                pool.submit(invoke, conn, p, endpoint, max_tokens, system, temperature, timeout) for p in prompts
            ]
            for i, f in enumerate(futures):
                err = f.exception()
                if err is None:
                    results[i] = f.result()
                else:
                    errors[i] = str(err)
        if errors and on_error == "raise":
            first = min(errors)
            failure = RuntimeError(
                "sub_llm_batch: %d of %d prompts failed; first: prompts[%d]: %s"
                % (len(errors), len(prompts), first, errors[first])
            )
            failure.index, failure.results, failure.errors = first, results, errors
            raise failure
        return results

    def sub_llm_usage(reset=False):
        """Token usage of the sub_llm calls in this context since the bootstrap (or the last reset):
        {"calls", "failed_calls", "retries", "prompt_tokens", "completion_tokens", "total_tokens"}."""
        with state._lock:
            out = dict(state._usage)
            if reset:
                for k in state._usage:
                    state._usage[k] = 0
        return out

    for f in (sub_llm, sub_llm_batch, sub_llm_usage):
        f.__qualname__ = f.__name__
        f.__module__ = "__main__"

    # ----- install -----

    old = uninstall_old()
    state = Dbxr()
    if old is not None:
        try:
            state._previous = Kept(*old._export_previous())
        except Exception:
            pass
    state._install()
    ns["_dbxr"] = state
    ns["sub_llm"] = sub_llm
    ns["sub_llm_batch"] = sub_llm_batch
    ns["sub_llm_usage"] = sub_llm_usage


try:
    _dbxr_bootstrap(globals())
finally:
    del _dbxr_bootstrap
None

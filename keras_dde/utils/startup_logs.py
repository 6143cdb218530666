"""Keeps the engines' start-up log lines off the `keras-dde` command's terminal.

TensorFlow's C++ runtime writes information lines to the process's standard
error while it loads ("oneDNN custom operations are on ...", absl's "All log
messages before absl::InitializeLog() ..."), whatever `TF_CPP_MIN_LOG_LEVEL`
says (TensorFlow 2.21), and Keras loads it even on the JAX and PyTorch
backends, in the middle of a run. The command's user did not ask for them
and can do nothing about them, so when the process is the command, file
descriptor 2 goes through a filter that drops exactly those lines (absl's
information lines, `I` + date) and passes everything else on, warnings and
errors included, as they come. `keras-dde ... --verbose` or
`KERAS_DDE_VERBOSE=1` turns the filter off. It is installed by
`keras_dde/__init__.py` before Keras is imported, which is the first thing the
console script does; a library user's process is never touched.
"""

import atexit
import os
import re
import sys
import threading

COMMAND = "keras-dde"
VERBOSE_VARIABLE = "KERAS_DDE_VERBOSE"
STARTUP_LINE = re.compile(
    rb"^(WARNING: All log messages before absl::InitializeLog\(\)"
    rb"|I\d{4} \d\d:\d\d:\d+\.\d+ +\d+ \S+:\d+\] "  # absl's INFO lines
    rb"|To enable the following instructions: )"  # cpu_feature_guard's 2nd line
)


def is_quiet_command(argv=None, orig_argv=None, environ=None):
    """Whether this process is the `keras-dde` command, without `--verbose`."""
    argv = sys.argv if argv is None else argv
    orig_argv = getattr(sys, "orig_argv", []) if orig_argv is None else orig_argv
    environ = os.environ if environ is None else environ
    as_script = bool(argv) and os.path.basename(argv[0]) == COMMAND
    as_module = any(
        flag == "-m" and name == "keras_dde"
        for flag, name in zip(orig_argv, orig_argv[1:])
    )
    verbose = "--verbose" in argv[1:] or environ.get(VERBOSE_VARIABLE, "") not in ("", "0")
    return (as_script or as_module) and not verbose


def drop_startup_lines(chunks, write):
    """Writes the lines of the byte `chunks` that are not start-up lines.

    A line ends at `\\n` or `\\r` (progress bars), and is passed on as soon
    as it ends; a last line without an end is passed on at the end.
    """
    pending = b""
    for chunk in chunks:
        pending += chunk
        lines = re.split(rb"(?<=[\r\n])", pending)
        pending = lines.pop()
        for line in lines:
            if not STARTUP_LINE.match(line):
                write(line)
    if pending and not STARTUP_LINE.match(pending):
        write(pending)


def filter_startup_logs():
    """Routes file descriptor 2 through `drop_startup_lines` until exit."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")  # TF's other INFO lines
    sys.stderr.flush()
    terminal = os.dup(2)
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)

    def chunks():
        while chunk := os.read(read_end, 65536):
            yield chunk

    def forward():
        drop_startup_lines(chunks(), lambda line: os.write(terminal, line))

    thread = threading.Thread(target=forward, name="startup-log-filter", daemon=True)
    thread.start()

    def restore():
        # The last lines reach the terminal before the process ends: closing
        # fd 2 (the pipe's one write end) ends the reader.
        sys.stderr.flush()
        os.dup2(terminal, 2)
        thread.join(timeout=5)

    atexit.register(restore)

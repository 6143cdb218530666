"""The start-up log filter of the `keras-dde` command: which lines go, which stay."""

from keras_dde.utils.startup_logs import drop_startup_lines
from keras_dde.utils.startup_logs import is_quiet_command

ABSL = b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
ONEDNN = (b"I0000 00:00:1796405170.350552    8404 port.cc:153] oneDNN custom "
          b"operations are on. You may see slightly different numerical results.\n")
WARNING = b"W0000 00:00:1796405170.350552    8404 gpu.cc:12] a warning to act on\n"


def kept(*chunks):
    lines = []
    drop_startup_lines(chunks, lines.append)
    return b"".join(lines)


def test_start_up_lines_go_and_everything_else_stays():
    user = b"UserWarning: the data has NaNs\n"
    assert kept(ABSL, ONEDNN, WARNING, user) == WARNING + user


def test_lines_split_across_chunks_and_progress_bars_pass_through():
    text = ONEDNN + b"epoch 1/3\r" + b"epoch 2/3\r" + WARNING + b"done"
    chunks = [text[i : i + 7] for i in range(0, len(text), 7)]
    assert kept(*chunks) == b"epoch 1/3\repoch 2/3\r" + WARNING + b"done"


def test_only_the_command_without_verbose_is_quiet():
    quiet = dict(orig_argv=["python"], environ={})
    assert is_quiet_command(["/venv/bin/keras-dde", "train"], **quiet)
    assert is_quiet_command(
        ["-m", "train"], orig_argv=["python", "-m", "keras_dde", "train"], environ={}
    )
    assert not is_quiet_command(["/venv/bin/keras-dde", "train", "--verbose"], **quiet)
    assert not is_quiet_command(
        ["/venv/bin/keras-dde"], orig_argv=["python"], environ={"KERAS_DDE_VERBOSE": "1"}
    )
    assert not is_quiet_command(["pytest", "-q"], **quiet)  # a library user
    assert not is_quiet_command(
        ["-c"], orig_argv=["python", "-m", "keras_dde_other"], environ={}
    )

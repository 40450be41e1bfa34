#!/usr/bin/env python3
"""torchrun (python3 -m torch.distributed.run) for PyTorch 1.x on Python 3.11+.

PyTorch before 2.0 parses torchrun's --redirects/--tee values by iterating
over its `Std` flag enum, and Python 3.11 no longer yields the zero member
(NONE) when iterating a Flag, so the default "0" parses to None and torchrun
fails before starting any process (AttributeError: 'NoneType' object has no
attribute 'get'). Debian 12's python3-torch (1.13 on Python 3.11) has this.
This runs the real launcher with that one parse fixed; arguments are
torchrun's. apps/docs/test/elsewhere.test.ts uses it only where the installed
torchrun has the problem.
"""
import re
import sys

from torch.distributed.elastic.multiprocessing.api import Std

if Std.from_str("0") is None:
    _from_str = Std.from_str.__func__
    Std.from_str = classmethod(lambda cls, vm: cls(int(vm)) if re.fullmatch(r"\d", vm) else _from_str(cls, vm))

from torch.distributed.run import main  # noqa: E402  (after the fix)

if __name__ == "__main__":
    sys.exit(main())

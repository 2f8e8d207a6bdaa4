# Test peer: a real Modbus RTU slave (Debian's pymodbus 3.0) on a pty, scripted to act as a relay board driving a barrier arm.
#
# Run with /usr/bin/python3 (only that interpreter has python3-pymodbus and python3-serial-asyncio).
#
#   slave.py --port /tmp/x/peer --unit 1 [--unit 2] [--coils 8] [--inputs 8]
#            [--open-coil 0] [--close-coil 1] [--up-input 0] [--down-input 1] [--arm-ms 200] [--arm follow|never]
#
# stdout, one line each, flushed: "ready"; "coil <unit> <addr> <0|1>" for every coil written by the
# master; "di <unit> <addr> <0|1>" for every discrete input the script changes.
# stdin, one command a line: "di <unit> <addr> <0|1>" (e.g. the vehicle loop), "arm <follow|never>".
#
# The arm: when the OPEN coil goes 1 the down limit switch opens at once and, in "follow" mode, the
# up switch closes --arm-ms later; the CLOSE coil does the reverse. In "never" mode the arm is stuck.
import argparse
import asyncio
import logging
import sys

from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext
from pymodbus.framer.rtu_framer import ModbusRtuFramer
from pymodbus.server import StartAsyncSerialServer

state = {"arm": "follow"}


def say(line):
    print(line, flush=True)


class Inputs(ModbusSequentialDataBlock):
    """Discrete inputs that announce every change the script makes."""

    def __init__(self, unit, size):
        super().__init__(0, [False] * size)
        self.unit = unit

    def change(self, address, value):
        if 0 <= address < len(self.values) and self.values[address] != value:
            self.values[address] = value
            say(f"di {self.unit} {address} {int(value)}")


class Coils(ModbusSequentialDataBlock):
    """Coils that log every write and move the emulated barrier arm on a rising OPEN or CLOSE coil."""

    def __init__(self, unit, size, inputs, args):
        super().__init__(0, [False] * size)
        self.unit = unit
        self.inputs = inputs
        self.args = args

    def setValues(self, address, values):  # noqa: N802 (pymodbus' name)
        if not isinstance(values, list):
            values = [values]
        before = list(self.values)
        super().setValues(address, values)
        for offset, value in enumerate(values):
            addr = address + offset
            say(f"coil {self.unit} {addr} {int(bool(value))}")
            if bool(value) and not before[addr]:
                self.rising(addr)

    def rising(self, addr):
        a = self.args
        loop = asyncio.get_running_loop()
        if addr == a.open_coil:
            # The arm leaves the down switch at once and reaches the up switch later, if it moves at all.
            if a.down_input is not None:
                self.inputs.change(a.down_input, False)
            if a.up_input is not None and state["arm"] == "follow":
                loop.call_later(a.arm_ms / 1000, self.inputs.change, a.up_input, True)
        elif addr == a.close_coil:
            if a.up_input is not None:
                self.inputs.change(a.up_input, False)
            if a.down_input is not None and state["arm"] == "follow":
                loop.call_later(a.arm_ms / 1000, self.inputs.change, a.down_input, True)


def on_stdin(inputs):
    line = sys.stdin.readline()
    if line == "":
        # The test runner went away: a slave nobody controls must not linger.
        asyncio.get_running_loop().stop()
        return
    words = line.split()
    if len(words) == 4 and words[0] == "di":
        unit, addr, value = int(words[1]), int(words[2]), words[3] == "1"
        if unit in inputs:
            inputs[unit].change(addr, value)
    elif len(words) == 2 and words[0] == "arm" and words[1] in ("follow", "never"):
        state["arm"] = words[1]
    else:
        print(f"unknown command: {line.strip()}", file=sys.stderr, flush=True)


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", required=True)
    p.add_argument("--baud", type=int, default=9600)
    p.add_argument("--unit", type=int, action="append")
    p.add_argument("--coils", type=int, default=8)
    p.add_argument("--inputs", type=int, default=8)
    p.add_argument("--open-coil", type=int, default=0)
    p.add_argument("--close-coil", type=int, default=1)
    p.add_argument("--up-input", type=int, default=0)
    p.add_argument("--down-input", type=int, default=1)
    p.add_argument("--arm-ms", type=int, default=200)
    p.add_argument("--arm", choices=("follow", "never"), default="follow")
    args = p.parse_args()
    state["arm"] = args.arm

    units = args.unit or [1]
    inputs = {}
    slaves = {}
    for unit in units:
        di = Inputs(unit, args.inputs)
        if args.down_input is not None:
            di.values[args.down_input] = True  # the barrier starts closed
        inputs[unit] = di
        # zero_mode: protocol address N is block index N, as on the wire. Coils beyond --coils do not
        # exist, so writing one earns an ILLEGAL DATA ADDRESS exception.
        slaves[unit] = ModbusSlaveContext(di=di, co=Coils(unit, args.coils, di, args), zero_mode=True)
    # single=False + ignore_missing_slaves: frames for other unit ids go unanswered, as on a real bus.
    context = ModbusServerContext(slaves=slaves, single=False)

    # StartAsyncSerialServer defaults to the ASCII framer in pymodbus 3.0: RTU must be asked for.
    server = await StartAsyncSerialServer(
        context=context,
        framer=ModbusRtuFramer,
        port=args.port,
        baudrate=args.baud,
        bytesize=8,
        parity="N",
        stopbits=1,
        ignore_missing_slaves=True,
        defer_start=True,
    )
    await server.start()
    loop = asyncio.get_running_loop()
    loop.add_reader(sys.stdin.fileno(), on_stdin, inputs)
    say("ready")
    await server.serve_forever()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    try:
        asyncio.run(main())
    except (KeyboardInterrupt, RuntimeError):
        # RuntimeError: the loop was stopped from on_stdin before main() finished.
        pass

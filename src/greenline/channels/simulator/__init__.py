"""A seeded, deterministic model of the WhatsApp network (Cloud API semantics), for use with no phone and no internet.

`params` documents every behaviour and the published figure behind it; `network` runs the model; `channel`
exposes one number as a `Channel`. Its events are Cloud API webhook payloads, parsed like real ones.
"""

from greenline.channels.simulator.channel import SimulatorChannel
from greenline.channels.simulator.clock import Clock, ManualClock, SimClock
from greenline.channels.simulator.network import SimulatedNetwork
from greenline.channels.simulator.params import SimulatorParams
from greenline.channels.simulator.state import NumberStatus

__all__ = [
    "Clock",
    "ManualClock",
    "NumberStatus",
    "SimClock",
    "SimulatedNetwork",
    "SimulatorChannel",
    "SimulatorParams",
]

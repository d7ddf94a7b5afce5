"""SIMULATED regional providers on loopback, for the demo, the tests and the benchmarks.

fleet          the servers (one uvicorn per provider) and their providers file
endpoints      one simulated endpoint: the OpenAI and hybrid-router routes it answers
answers        what a simulated model says, per question, model and region
faults         the faults a simulated provider can be told to show
deterministic  stable choices from a seed, so every run says the same
May import providers' config and regions; nothing in providers/ outside it imports it.
"""

from beacon_gql.providers.simulator.endpoints import RecordedRequest, SimulatedProviderSpec
from beacon_gql.providers.simulator.faults import FaultProfile
from beacon_gql.providers.simulator.fleet import (
    SIMULATED_PROVIDERS,
    SimulatorFleet,
    serve_simulators,
)

__all__ = [
    "SIMULATED_PROVIDERS",
    "FaultProfile",
    "RecordedRequest",
    "SimulatedProviderSpec",
    "SimulatorFleet",
    "serve_simulators",
]

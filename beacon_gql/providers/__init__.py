"""LLM providers: where each execution is sent, and how.

regions        the three regions and their many spellings
endpoint       one provider's settings (ProviderConfig)
config         the providers file
client         request, result, classified error, the client protocol
exchange       one HTTP exchange and how its failure is classified (shared by every protocol)
kinds          the table from a provider kind to its client class, `make_client`
openai         OpenAI-compatible chat completions
hybrid_router  the predecessor's hybrid router
health         recent health and latency of one provider
registry       routing within a region, concurrency slots, health checks, statuses
simulator/     SIMULATED regional providers on loopback (a sub-package)
providers/ imports no other room of beacon_gql; execution/, services and the web edge
import it.
"""

"""LLM providers: where each execution is sent, and how.

regions        the three regions and their many spellings
config         the providers file
client         request, result, classified error, the client protocol, `make_client`
exchange       one HTTP exchange and how its failure is classified (shared by both protocols)
openai         OpenAI-compatible chat completions
hybrid_router  the predecessor's hybrid router
health         recent health and latency of one provider
registry       routing within a region, concurrency slots, health checks, statuses
simulator      SIMULATED regional providers on loopback (simulated_* hold their parts)
"""

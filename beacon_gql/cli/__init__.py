"""The command line and the client side: the `beacon-gql` entry point, the GraphQL client, `watch`,
`export`, `questions import` and the demo.

May import anything in the package (it starts servers and workers); nothing imports from here.
"""

"""Use cases beside the core, one module per API family they serve.

Each takes a request of its family through the core (the one door, the ticket stage's
steps, the store) and returns what the view renders; views stay thin and the stages never
import them.
"""

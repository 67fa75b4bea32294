"""The registry's side of federation: who the node is, what it does with activities, and how
its asset changes become activities. The protocol itself lives in the `federation` package."""

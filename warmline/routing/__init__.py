"""The Redis side of matching: keys, Lua scripts and the routing engine (see `engine`)."""

"""A call, from arrival to the peer's bridge: menus, waiting, transfers, the backup route."""

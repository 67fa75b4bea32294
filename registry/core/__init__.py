"""The node's ground floor: database, tables, errors, migrations, backups, keys."""

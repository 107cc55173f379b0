"""Loaded by every moto the tests start (they put this folder on PYTHONPATH): fixes moto's memory.

moto 5.2.5 appends every model instance it creates to its class's `instances_tracked` list
(`moto.core.common_models.BaseModel.__new__`, there for moto's dashboard), and never removes one.
For DynamoDB that keeps alive every item ever written (each `PutItem` makes a new `Item`, and the
one it replaces stays tracked) and every table backup: `TransactWriteItems` deep-copies each table
it names, to restore it if the transaction fails. A schedule move against a 1,000-item table kept
3 MB, and the 1,000-tenant simulation's moto reached 22.8 GB and was killed in its third tick.

So DynamoDB items are not tracked (the tests read SES mail and secrets from the dashboard, never
items), and after each transaction the tracked tables are pruned back to the live ones.
"""

import sys

try:
    from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import Table
except ImportError as error:  # another Python on PYTHONPATH, or moto moved: say so, run on
    print(f"moto-fixes: not applied ({error})", file=sys.stderr)
else:
    def _untracked_item(cls, *args, **kwargs):
        return object.__new__(cls)

    Item.__new__ = _untracked_item

    _transact_write_items = DynamoDBBackend.transact_write_items

    def _live_tables():
        live = set()
        for regions in dynamodb_backends.values():
            for backend in regions.values():
                live.update(id(table) for table in backend.tables.values())
        return live

    def transact_write_items(self, transact_items):
        try:
            return _transact_write_items(self, transact_items)
        finally:
            live = _live_tables()
            Table.instances_tracked[:] = [
                table for table in Table.instances_tracked if id(table) in live
            ]

    DynamoDBBackend.transact_write_items = transact_write_items

"""The service, one room per domain. Rooms import each other without cycles, in this
order from the top: cli -> web -> runtime -> insights -> tenancy, chat -> knowledge ->
auth -> observability -> core (checked by import-linter in `make lint`)."""

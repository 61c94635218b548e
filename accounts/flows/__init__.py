"""Account flows that outgrew `accounts/services.py`: one module of plain functions each."""

"""cfplan: the facility-coverage planner for child-friendly cities (儿童友好城市)."""

__version__ = "0.1.0"

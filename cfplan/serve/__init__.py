"""cfplan serve: the planner's workbench as a local web app (FastAPI under uvicorn)."""

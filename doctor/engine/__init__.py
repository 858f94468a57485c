"""Reaching the container engine (Docker, Finch, Docker Desktop, Colima, Podman) and reading it.
docker-py is imported only here, and only when the engine is contacted."""

"""A fake Hugging Face Hub on loopback serving one model folder, as `huggingface_hub` downloads it.

It answers the three calls a snapshot download makes: the revision lookup
(`/api/models/{repo}/revision/{rev}`), the file listing (`/api/models/{repo}/tree/{sha}`) and
`HEAD`/`GET` of `/{repo}/resolve/{sha}/{path}`, and records every file that was fetched.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from types import TracebackType

from aiohttp import web

from tests.fakes.loopback import LoopbackServer

COMMIT = "0123456789abcdef0123456789abcdef01234567"


class FakeHub:
    """Serves the files of `folder` as model `repo_id`; `async with FakeHub(...) as hub`."""

    def __init__(self, repo_id: str, folder: Path, *, chunk_size: int = 64 * 1024) -> None:
        self.repo_id = repo_id
        self._files = {
            path.relative_to(folder).as_posix(): path
            for path in sorted(folder.rglob("*"))
            if path.is_file() and not path.name.startswith(".")
        }
        self._chunk_size = chunk_size
        self.fetched: list[str] = []
        self.url = ""
        self._server: LoopbackServer | None = None

    async def __aenter__(self) -> FakeHub:
        app = web.Application()
        app.router.add_get("/api/models/{owner}/{name}/revision/{revision}", self._revision)
        app.router.add_get("/api/models/{owner}/{name}/tree/{revision}", self._tree)
        app.router.add_route("*", "/{owner}/{name}/resolve/{revision}/{path:.+}", self._resolve)
        self._server = LoopbackServer(app)
        self.url = await self._server.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            await self._server.stop()

    def _known(self, request: web.Request) -> None:
        repo = f"{request.match_info['owner']}/{request.match_info['name']}"
        if repo != self.repo_id:
            raise web.HTTPNotFound(
                headers={"X-Error-Code": "RepoNotFound"}, text='{"error":"Repository not found"}'
            )

    @staticmethod
    def _blob_id(path: Path) -> str:
        data = path.read_bytes()
        return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()

    async def _revision(self, request: web.Request) -> web.Response:
        self._known(request)
        siblings = [{"rfilename": name} for name in self._files]
        return web.json_response({"id": self.repo_id, "sha": COMMIT, "siblings": siblings})

    async def _tree(self, request: web.Request) -> web.Response:
        self._known(request)
        entries = [
            {"type": "file", "path": name, "size": path.stat().st_size, "oid": self._blob_id(path)}
            for name, path in self._files.items()
        ]
        return web.json_response(entries)

    async def _resolve(self, request: web.Request) -> web.StreamResponse:
        self._known(request)
        name = request.match_info["path"]
        path = self._files.get(name)
        if path is None:
            raise web.HTTPNotFound(headers={"X-Error-Code": "EntryNotFound"})
        headers = {
            "X-Repo-Commit": COMMIT,
            "ETag": f'"{self._blob_id(path)}"',
            "Content-Length": str(path.stat().st_size),
        }
        if request.method == "HEAD":
            return web.Response(headers=headers)
        self.fetched.append(name)
        response = web.StreamResponse(headers=headers)
        await response.prepare(request)
        data = path.read_bytes()
        for start in range(0, len(data), self._chunk_size):
            await response.write(data[start : start + self._chunk_size])
        await response.write_eof()
        return response

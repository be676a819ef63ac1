"""Static files: hashed names, and compressed copies that whitenoise serves by Accept-Encoding."""

import os
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from whitenoise.compress import Compressor
from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """Brotli and gzip for the site's own files, gzip alone for the admin's: Brotli at its
    best setting is slow, and the admin's hundreds of files (read by a few instructors)
    would make every collectstatic five times longer for no reader's benefit."""

    def __init__(self, *args, location=None, **kwargs):
        # The manifest (every file's hashed name) lives beside the static folder, not in it,
        # so neither whitenoise nor nginx serves it to the public.
        root = Path(location or settings.STATIC_ROOT)
        kwargs.setdefault("manifest_storage", FileSystemStorage(location=root.with_name(root.name + "-manifest")))
        super().__init__(*args, location=location, **kwargs)

    def create_compressor(self, **kwargs):
        return _SiteFilesFirst(os.path.join(self.location, "admin", ""), **kwargs)


class _SiteFilesFirst:
    def __init__(self, admin_dir: str, **kwargs):
        self.admin_dir = admin_dir
        self.both = Compressor(**kwargs)
        self.gzip_only = Compressor(**{**kwargs, "use_brotli": False})

    def should_compress(self, name: str) -> bool:
        return self.both.should_compress(name)

    def compress(self, path: str) -> list:
        return (self.gzip_only if path.startswith(self.admin_dir) else self.both).compress(path)

"""Build fitsbind's C extension against the vendored (default) or a system CFITSIO.

Build options; each works as a command-line flag (``python setup.py build_ext --cfitsio=system``,
or ``pip install . --config-settings=--build-option=--cfitsio=system``) and as an environment
variable, the flag winning:

``--cfitsio=vendored|system``   ``FITSBIND_CFITSIO``
    ``vendored`` (default) compiles the pinned release from ``cfitsio-vendor/`` into the
    extension; ``system`` links the CFITSIO that ``pkg-config cfitsio`` finds.
``--cfitsio-tarball=PATH``      ``FITSBIND_CFITSIO_TARBALL``
    build the vendored CFITSIO from this tarball (offline builds); its sha256 must match the lock.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "cfitsio-vendor"))
import fetch_cfitsio  # noqa: E402

# CFITSIO's library sources (upstream Makefile.in CORE_SOURCES and ZLIB_SOURCES) less the network
# and shared-memory drivers, which fitsbind never enables; no utilities, no Fortran wrappers.
CFITSIO_SOURCES = """
    buffers.c cfileio.c checksum.c drvrfile.c drvrmem.c editcol.c edithdu.c eval_l.c eval_y.c
    eval_f.c fitscore.c getcol.c getcolb.c getcold.c getcole.c getcoli.c getcolj.c getcolk.c
    getcoll.c getcols.c getcolsb.c getcoluk.c getcolui.c getcoluj.c getkey.c group.c grparser.c
    histo.c iraffits.c modkey.c putcol.c putcolb.c putcold.c putcole.c putcoli.c putcolj.c
    putcolk.c putcoluk.c putcoll.c putcols.c putcolsb.c putcolu.c putcolui.c putcoluj.c putkey.c
    region.c scalnull.c swapproc.c wcssub.c wcsutil.c imcompress.c quantize.c ricecomp.c
    pliocomp.c fits_hcompress.c fits_hdecompress.c simplerng.c zcompress.c zuncompress.c
""".split()

# Reentrant (one mutex guards CFITSIO's global tables), large-file aware, POSIX I/O.
CFITSIO_MACROS = [
    ("_REENTRANT", None),
    ("_LARGEFILE_SOURCE", "1"),
    ("_FILE_OFFSET_BITS", "64"),
    ("HAVE_UNISTD_H", "1"),
    ("HAVE_FTRUNCATE", "1"),
    ("HAVE_LONGLONG", "1"),
]
# Third-party code: optimise, and keep its warnings out of our build log.
CFITSIO_CFLAGS = ["-O2", "-w"]


def _take_flag(name: str) -> str | None:
    """Remove ``--name=value`` from sys.argv (any command) and return the value."""
    value = None
    for arg in list(sys.argv):
        if arg.startswith(f"--{name}="):
            value = arg.split("=", 1)[1]
            sys.argv.remove(arg)
    return value


def _option(name: str, env: str, default: str | None) -> str | None:
    flag = _take_flag(name)
    return flag if flag is not None else os.environ.get(env, default)


CFITSIO_MODE = _option("cfitsio", "FITSBIND_CFITSIO", "vendored")
CFITSIO_TARBALL = _option("cfitsio-tarball", "FITSBIND_CFITSIO_TARBALL", None)
if CFITSIO_MODE not in ("vendored", "system"):
    sys.exit(f"fitsbind: --cfitsio / FITSBIND_CFITSIO must be 'vendored' or 'system', not {CFITSIO_MODE!r}")
if CFITSIO_TARBALL:
    os.environ["FITSBIND_CFITSIO_TARBALL"] = CFITSIO_TARBALL


def _pkg_config(*args: str) -> str:
    try:
        out = subprocess.run(["pkg-config", *args, "cfitsio"], capture_output=True, text=True, check=True)
    except FileNotFoundError:
        sys.exit("fitsbind: FITSBIND_CFITSIO=system needs pkg-config, which is not installed")
    except subprocess.CalledProcessError as exc:
        sys.exit(
            "fitsbind: FITSBIND_CFITSIO=system but pkg-config cannot find cfitsio "
            f"(install the cfitsio development files, or set PKG_CONFIG_PATH):\n{exc.stderr}"
        )
    return out.stdout.strip()


class BuildExt(build_ext):
    """Compile CFITSIO (vendored mode) once, in parallel, and link it into every extension."""

    def build_extensions(self) -> None:
        if CFITSIO_MODE == "system":
            summary = self._configure_system()
        else:
            summary = self._configure_vendored()
        print("fitsbind build configuration:\n  " + "\n  ".join(summary), flush=True)
        super().build_extensions()

    def _configure_system(self) -> list[str]:
        version = _pkg_config("--modversion")
        cflags = shlex.split(_pkg_config("--cflags"))
        libs = shlex.split(_pkg_config("--libs"))
        for ext in self.extensions:
            ext.include_dirs += [f[2:] for f in cflags if f.startswith("-I")]
            ext.extra_compile_args += [f for f in cflags if not f.startswith("-I")]
            ext.library_dirs += [f[2:] for f in libs if f.startswith("-L")]
            ext.libraries += [f[2:] for f in libs if f.startswith("-l")]
            ext.define_macros += [("FITSBIND_CFITSIO_SOURCE", '"system"')]
        return [f"CFITSIO {version}: system (pkg-config)", f"cflags: {cflags}", f"libs: {libs}"]

    def _configure_vendored(self) -> list[str]:
        try:
            src = fetch_cfitsio.ensure_source()
        except fetch_cfitsio.CfitsioSourceError as exc:
            sys.exit(f"fitsbind: {exc}")
        header = (src / "fitsio.h").read_text(errors="replace")
        version = ".".join(
            re.search(rf"#define CFITSIO_{part}\s+(\d+)", header).group(1)
            for part in ("MAJOR", "MINOR", "MICRO")
        )
        objects = self._compile_cfitsio(src)
        for ext in self.extensions:
            ext.include_dirs.insert(0, str(src))
            ext.extra_objects += objects
            ext.libraries += ["z", "m"]
            ext.define_macros += [("FITSBIND_CFITSIO_SOURCE", '"vendored"')]
        macros = " ".join(f"-D{k}" + (f"={v}" if v else "") for k, v in CFITSIO_MACROS)
        return [
            f"CFITSIO {version}: vendored ({src})",
            f"flags: {' '.join(CFITSIO_CFLAGS)} {macros}; zlib: system; {len(objects)} objects",
        ]

    def _compile_cfitsio(self, src: Path) -> list[str]:
        out_dir = os.path.join(self.build_temp, "cfitsio")

        headers = [src / "fitsio.h", src / "fitsio2.h"]

        def compile_one(name: str) -> list[str]:
            (obj,) = self.compiler.object_filenames([str(src / name)], output_dir=out_dir)
            if not self.force and os.path.exists(obj):
                built = os.path.getmtime(obj)
                if all(p.stat().st_mtime <= built for p in [src / name, *headers]):
                    return [obj]
            return self.compiler.compile(
                [str(src / name)],
                output_dir=out_dir,
                macros=CFITSIO_MACROS,
                include_dirs=[str(src)],
                extra_postargs=CFITSIO_CFLAGS,
            )

        workers = (
            self.parallel if isinstance(self.parallel, int) and self.parallel > 1 else os.cpu_count() or 1
        )
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return [obj for objs in pool.map(compile_one, CFITSIO_SOURCES) for obj in objs]


# fitsbind's own C kernels (byte order, raw I/O, Rice decoding), shared by both extensions
KERNELS = ROOT / "fitsbind" / "include"
KERNEL_HEADERS = sorted(str(p.relative_to(ROOT)) for p in KERNELS.glob("*.h"))

extensions = [
    Extension(
        "fitsbind._fitsfile",
        ["fitsbind/_fitsfile.pyx"],
        include_dirs=[numpy.get_include(), "fitsbind/include"],
        depends=KERNEL_HEADERS,
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_21_API_VERSION"),
                       ("_FILE_OFFSET_BITS", "64")],
    ),
    Extension(
        "fitsbind._tiles",
        ["fitsbind/_tiles.pyx"],
        include_dirs=[numpy.get_include(), "fitsbind/include"],
        depends=KERNEL_HEADERS,
        # the codec swaps a tile at a time: plain loops (measured: the SIMD clones of the
        # swap kernel made quantized-float encoding 3% slower here, through code layout alone)
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_21_API_VERSION"),
                       ("FITSBIND_SWAP_PLAIN", "1")],
        # the tile codec calls zlib itself; a system CFITSIO's pkg-config need not list it
        libraries=["z"],
        # dequantization must round exactly as CFITSIO's (x - r + 0.5) * scale + zero does;
        # a fused multiply-add would change the last bit
        extra_compile_args=[] if sys.platform == "win32" else ["-ffp-contract=off"],
    ),
]

setup(
    ext_modules=cythonize(
        extensions,
        compiler_directives={"language_level": 3, "embedsignature": True},
    ),
    cmdclass={"build_ext": BuildExt},
)

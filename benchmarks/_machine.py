"""One line (or a few) describing the machine a benchmark ran on: cores, load, BLAS and
its kernel (threadpoolctl), numba threads, library versions.

Run ``python benchmarks/_machine.py`` to print it alone.
"""

from __future__ import annotations

import os
import platform


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def kernel_target() -> str:
    """The instruction set numba compiles the fused kernels for: LLVM's CPU name, the
    vector extensions among its features, and whether LLVM prefers 256-bit vectors
    there (it does on Intel AVX-512 server cores: the kernels then use ymm, not zmm)."""
    import llvmlite.binding as llvm
    import numba

    name = numba.config.CPU_NAME or llvm.get_host_cpu_name()
    features = numba.config.CPU_FEATURES or llvm.get_host_cpu_features().flatten()
    wanted = ("avx2", "fma", "avx512f", "avx512vl", "avx512bw", "avx512fp16")
    present = [f for f in wanted if f"+{f}" in features.split(",")]
    return (f"kernels: numba target {name}, {' '.join(present) or 'no AVX'}"
            f"; fastmath reassoc/contract/nsz; threads: nmfaudio pool (not numba's threading layer)")


def machine_lines() -> list[str]:
    """Describe cores, load, BLAS libraries and versions, one fact group per line."""
    import numpy as np
    import scipy
    import sklearn
    from threadpoolctl import threadpool_info

    lines = []
    cores = os.cpu_count()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    lines.append(f"machine: {cores} cores, {_cpu_model()}, load average {load}")
    for pool in threadpool_info():
        if pool.get("user_api") != "blas":
            continue
        name = os.path.basename(pool.get("filepath", "?"))
        owner = "numpy" if "numpy" in pool.get("filepath", "") else "scipy" if "scipy" in pool.get("filepath", "") else "?"
        lines.append(
            f"BLAS ({owner}): {pool.get('internal_api')} {pool.get('version')}, kernel "
            f"{pool.get('architecture')}, {pool.get('num_threads')} threads [{name}]"
        )
    coretype = {key: os.environ[key] for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if key in os.environ}
    lines.append(f"OPENBLAS_CORETYPE/L2_SIZE in environment: {coretype or 'not set'}")
    try:
        import numba

        from nmfaudio.nmf import kernels

        numba_text = f"numba {numba.__version__} (fused pass on {kernels.num_threads()} threads)"
        lines.append(kernel_target())
    except ImportError:
        numba_text = "numba not installed (NumPy fallback)"
    lines.append(
        f"python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, "
        f"scikit-learn {sklearn.__version__}, {numba_text}"
    )
    return lines


if __name__ == "__main__":
    print("\n".join(machine_lines()))

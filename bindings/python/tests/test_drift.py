"""The binding's declarations match include/bearer.h: every function, its
parameters (names and types) and every BEARER_STATUS_* number."""

import ctypes
import pathlib
import re

import bearer
from bearer import _native

HEADER = pathlib.Path(__file__).resolve().parents[1] / ".." / ".." / "include" / "bearer.h"

_P = ctypes.POINTER(ctypes.c_void_p)
# How each C type of the header is declared in ctypes. Returned and
# out-strings are void pointers so that they can be freed (see _native.py).
C_TO_CTYPES = {
    "void": None,
    "bearer_status": ctypes.c_int,
    "bearer_status *": ctypes.POINTER(ctypes.c_int),  # out status
    "const char *": ctypes.c_char_p,  # inputs, and the static version string
    "char *": ctypes.c_void_p,  # a string given back to bearer_string_free
    "char **": _P,
    "bearer_client **": _P,
    "bearer_client *": ctypes.c_void_p,
    "const bearer_client *": ctypes.c_void_p,
    "bearer_login **": _P,
    "bearer_login *": ctypes.c_void_p,
    "const bearer_login *": ctypes.c_void_p,
    "bearer_device **": _P,
    "bearer_device *": ctypes.c_void_p,
    "const bearer_device *": ctypes.c_void_p,
    "unsigned int": ctypes.c_uint,
    "bool *": ctypes.POINTER(ctypes.c_bool),  # out flag
}


def read_header():
    text = HEADER.read_text()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    opaque = set(re.findall(r"\btypedef\s+struct\s+(\w+)\s+\1\s*;", text))
    statuses = {m[0]: int(m[1]) for m in re.findall(r"\bBEARER_STATUS_(\w+)\s*=\s*(\d+)", text)}
    functions = {}
    for ret, name, params in re.findall(r"([A-Za-z_][\w \t*]*?)\s*\b(bearer_\w+)\s*\(([^)]*)\)\s*;", text):
        ret = " ".join(ret.replace("*", " * ").split()).replace(" *", "*").replace("*", " *").strip()
        parsed = []
        params = " ".join(params.split())
        if params and params != "void":
            for p in params.split(","):
                m = re.fullmatch(r"\s*(.*?)\s*\b(\w+)\s*", p.replace("*", " * "))
                ctype = " ".join(m[1].split()).replace("* *", "**")
                parsed.append((m[2], ctype))
        functions[name] = (ret, parsed)
    return statuses, functions, opaque


def test_header_is_found_and_parsed():
    statuses, functions, opaque = read_header()
    assert len(functions) >= 16 and len(statuses) >= 9 and len(opaque) >= 2
    assert functions["bearer_client_new"] == (
        "bearer_status",
        [("config_json", "const char *"), ("client_out", "bearer_client **"), ("problem_out", "char **")],
    )
    assert functions["bearer_login_wait"] == (
        "bearer_status",
        [
            ("login", "const bearer_login *"),
            ("timeout_ms", "unsigned int"),
            ("json_out", "char **"),
            ("problem_out", "char **"),
        ],
    )


def test_opaque_types_match_the_header():
    _, _, opaque = read_header()
    assert opaque == set(_native.OPAQUE_TYPES)


def test_functions_match_the_header():
    _, functions, _ = read_header()
    assert sorted(functions) == sorted(_native.SIGNATURES), "function set differs from bearer.h"
    for name, (ret, params) in functions.items():
        restype, declared = _native.SIGNATURES[name]
        assert C_TO_CTYPES[ret] is restype, f"{name}: return type {ret}"
        assert [p for p, _ in declared] == [p for p, _ in params], f"{name}: parameter names"
        for (pname, ctype), (_, argtype) in zip(params, declared):
            assert C_TO_CTYPES[ctype] == argtype, f"{name}({pname}): {ctype} vs {argtype}"


def test_loaded_functions_carry_the_declarations():
    lib = _native.load()
    for name, (restype, params) in _native.SIGNATURES.items():
        fn = getattr(lib, name)
        assert fn.restype is restype, name
        assert list(fn.argtypes) == [t for _, t in params], name


def test_status_numbers_match_the_header():
    statuses, _, _ = read_header()
    assert statuses == {s.name: s.value for s in bearer.Status}


def test_version_macro_matches_the_library():
    text = HEADER.read_text()
    assert f'#define BEARER_VERSION "{bearer.version()}"' in text

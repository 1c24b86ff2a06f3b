"""
nanoGPT's poor man's configurator, typed. Usage from a script whose defaults are module globals:

    $ python train.py config/mup_adamw.py config/my_overrides.py --batch_size=32 --learning_rate=3e-3

- every argument without '=' is a config file, exec'd in order on top of the defaults (so files stack);
- every --key=value is parsed with ast.literal_eval (falling back to a plain string) and applied after the files;
- a key that is not a default is an error naming the closest key; types must match the default, except that an
  int is accepted where a float is expected, None where the default is an int or None,
  and a single value or a list where the default is a tuple.

Errors are raised as ConfigError with a one-line message; the scripts print it and exit (no traceback).
"""

import ast
import difflib
import os
import traceback


CONFIG_TYPES = (int, float, bool, str, dict, tuple, type(None))  # the globals that are config keys


class ConfigError(Exception):
    pass


def _closest(key, known):
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.5)
    return f" (did you mean '{close[0]}'?)" if close else ''


def _coerce(key, value, default, where):
    """value converted to the default's type, or ConfigError."""
    if default is None or value is None and isinstance(default, int) and not isinstance(default, bool):
        return value
    if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(default, tuple) and isinstance(value, (int, float, str, list)):
        return tuple(value) if isinstance(value, list) else (value,)  # --widths=64 or [64, 128]
    if type(value) is not type(default):
        raise ConfigError(f"{where}: {key} expects {type(default).__name__} (default {default!r}), "
                          f"got {type(value).__name__} {value!r}")
    return value


def exec_config_file(path, scope):
    """exec the config file at path in scope, compiled with its own filename so that an error names the file and
    line ('config/x.py:3: NameError: ...'), raised as a one-line ConfigError."""
    with open(path) as f:
        source = f.read()
    try:
        code = compile(source, path, 'exec')
    except SyntaxError as e:
        raise ConfigError(f"config file {path}:{e.lineno}: SyntaxError: {e.msg}")
    try:
        exec(code, scope)
    except Exception as e:
        lines = [fr.lineno for fr in traceback.extract_tb(e.__traceback__) if fr.filename == path]
        where = f":{lines[-1]}" if lines else ''
        raise ConfigError(f"config file {path}{where}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")


def configure(g, args):
    """Apply config files and --key=value overrides in args to the globals dict g (only its existing keys)."""
    known = [k for k, v in g.items() if not k.startswith('_') and isinstance(v, CONFIG_TYPES)]
    defaults = {k: g[k] for k in known}
    for arg in args:
        if '=' not in arg:
            if arg.startswith('--'):
                raise ConfigError(f"argument {arg} has no value: write {arg}=VALUE")
            if not os.path.isfile(arg):
                raise ConfigError(f"config file {arg} not found (config files live in config/, e.g. "
                                  f"config/mup_adamw.py)")
            print(f"Overriding config with {arg}:")
            current = {k: g[k] for k in known}  # earlier files are visible to later ones
            scope = dict(current)
            exec_config_file(arg, scope)
            for key, value in scope.items():
                if key.startswith('_') or key in current and value is current[key]:
                    continue
                if key not in defaults:
                    if callable(value) or type(value).__name__ == 'module':
                        continue  # imports and helper functions in a config file are fine
                    raise ConfigError(f"{arg}: unknown config key '{key}'{_closest(key, known)}")
                g[key] = _coerce(key, value, defaults[key], arg)
        else:
            if not arg.startswith('--'):
                raise ConfigError(f"argument {arg} must look like --key=value")
            key, val = arg[2:].split('=', 1)
            if key not in defaults:
                raise ConfigError(f"unknown config key '{key}'{_closest(key, known)}; "
                                  f"see the defaults at the top of the script")
            try:
                value = ast.literal_eval(val)
            except (SyntaxError, ValueError):
                value = val  # a bare string, e.g. --optimizer=adamw
            g[key] = _coerce(key, value, defaults[key], f"--{key}")
            print(f"Overriding: {key} = {g[key]!r}")

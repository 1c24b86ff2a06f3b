"""
nanoGPT's poor man's configurator, typed. Usage from a script whose defaults are module globals:

    $ python train.py config/mup_adamw.py config/my_overrides.py --batch_size=32 --learning_rate=3e-3

- every argument without '=' is a config file, exec'd in order on top of the defaults (so files stack);
- a config file may start from another one with include('name.py'): the named file (a path relative to the
  including file's folder) is exec'd right there, into the same scope, so the lines after the include override
  it. config/shakespeare_char.py is such a shared block: config/mup_adamw.py is
      include('shakespeare_char.py')
      learning_rate = 1e-2
      ...
  and `python train.py config/mup_adamw.py` alone gives the whole config (includes nest; a cycle is an error);
- every --key=value is parsed with ast.literal_eval (falling back to a plain string) and applied after the files;
- a key that is not a default is an error naming the closest key; types must match the default, except that an
  int is accepted where a float is expected, None where the default is an int or None,
  and a single value or a list where the default is a tuple.

Errors are raised as ConfigError with a one-line message; the scripts print it and exit (no traceback).

train_defaults() gives train.py's defaults without running train.py, for the scripts that take train.py's keys.
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


def exec_config(path, scope, _including=()):
    """exec the config file at path into scope, with include('other.py') available to it (relative to path's
    folder; see the module docstring). include itself is left in scope as a callable, which configure skips.
    Each file is compiled with its own name, so an error in it (or in a file it includes) is one ConfigError
    naming that file and line ('config/x.py:3: NameError: ...')."""
    path = os.path.normpath(path)
    if path in _including:
        raise ConfigError(f"{_including[-1]}: include cycle {' -> '.join(_including + (path,))}")

    def include(name):
        target = os.path.join(os.path.dirname(path), name)
        if not os.path.isfile(target):
            raise ConfigError(f"{path}: include('{name}'): {target} not found (the name is relative to "
                              f"{os.path.dirname(path) or '.'}/)")
        exec_config(target, scope, _including + (path,))
        scope['include'] = include  # the included file bound its own; later includes here are relative to path

    scope['include'] = include
    with open(path) as f:
        source = f.read()
    try:
        code = compile(source, path, 'exec')
    except SyntaxError as e:
        raise ConfigError(f"config file {path}:{e.lineno}: SyntaxError: {e.msg}")
    try:
        exec(code, scope)
    except ConfigError:
        raise  # from a nested include: already names its file
    except Exception as e:
        frames = [fr for fr in traceback.extract_tb(e.__traceback__) if fr.filename != __file__]
        where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else path
        raise ConfigError(f"config file {where}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")


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
            exec_config(arg, scope)
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


def train_defaults(train_py=None):
    """{key: default} of every config key of train.py, as train.py holds them before any config file or --key=value:
    the module-level assignments of its defaults block (from the top of the file to `config_keys = ...`), then
    every optimizer's own hyperparameters (optim.hparam_defaults(), which train.py adds to its globals the same
    way). Keys starting with '_' and values that are not CONFIG_TYPES are left out, as train.py leaves them out.

    Read with ast, not by importing train.py (that would start a run). Rule for the values: a literal is read as
    written; an expression (device = 'cuda' if torch.cuda.is_available() else 'cpu', and dtype) is evaluated as
    train.py evaluates it, with torch and the defaults above it in scope, so on any machine the dict equals the
    config train.py resolves there with no arguments (tests/test_config_files.py runs train.py to check this).
    Imports torch and every optimizer file: call it where those are needed anyway. train.py's config for some
    arguments, without a run: cfg = train_defaults(); configure(cfg, ['config/mup_adamw.py', '--n_embd=768']).
    """
    import torch
    import optim
    train_py = train_py or os.path.join(os.path.dirname(os.path.abspath(__file__)), 'train.py')
    with open(train_py) as f:
        tree = ast.parse(f.read(), train_py)
    scope = {'torch': torch}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        if 'config_keys' in names:  # the end of the defaults block
            break
        if not names:
            continue
        try:
            v = ast.literal_eval(value)
        except ValueError:  # an expression: evaluated as train.py evaluates it
            try:
                v = eval(compile(ast.Expression(value), train_py, 'eval'), scope)
            except Exception as e:
                raise RuntimeError(f"{train_py}:{node.lineno}: default of {names[0]} is an expression that "
                                   f"train_defaults() cannot evaluate with torch and the defaults above it "
                                   f"({type(e).__name__}: {e})") from e
        for name in names:
            scope[name] = v
    out = {k: v for k, v in scope.items() if not k.startswith('_') and k != 'torch' and isinstance(v, CONFIG_TYPES)}
    out.update(optim.hparam_defaults())
    return out

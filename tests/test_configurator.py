"""configurator.py: stacked config files, typed --key=value, closest-key errors.  pytest tests/test_configurator.py"""

import pytest

from configurator import ConfigError, configure


def defaults():
    return dict(learning_rate=1e-3, batch_size=12, compile=True, optimizer='adamw', base_width=256,
                base_depth=None, lr_exponent_overrides={})


def test_files_stack_then_cli_wins(tmp_path):
    a, b = tmp_path / 'a.py', tmp_path / 'b.py'
    a.write_text("batch_size = 64\nlearning_rate = 2e-3\n")
    b.write_text("learning_rate = learning_rate * 2  # sees the value set by a.py\nimport math\n")
    g = defaults()
    configure(g, [str(a), str(b), '--batch_size=8'])
    assert g['batch_size'] == 8 and g['learning_rate'] == 4e-3


def test_types_int_for_float_none_for_int_strings_and_dicts():
    g = defaults()
    configure(g, ['--learning_rate=1', '--base_width=None', '--optimizer=sgd', "--lr_exponent_overrides={'hidden': 1}",
                  '--base_depth=4', '--compile=False'])
    assert g['learning_rate'] == 1.0 and isinstance(g['learning_rate'], float)
    assert g['base_width'] is None and g['optimizer'] == 'sgd' and g['lr_exponent_overrides'] == {'hidden': 1}
    assert g['base_depth'] == 4 and g['compile'] is False


@pytest.mark.parametrize('args,msg', [
    (['--batch_sise=3'], "unknown config key 'batch_sise' (did you mean 'batch_size'?)"),
    (['--batch_size=1.5'], 'batch_size expects int'),
    (['--compile=1'], 'compile expects bool'),
    (['--batch_size'], 'has no value'),
    (['missing.py'], 'config file missing.py not found'),
])
def test_errors(args, msg):
    with pytest.raises(ConfigError) as e:
        configure(defaults(), args)
    assert msg in str(e.value)


def test_unknown_key_in_a_file(tmp_path):
    f = tmp_path / 'c.py'
    f.write_text("learnig_rate = 1e-2\n")
    with pytest.raises(ConfigError, match="unknown config key 'learnig_rate'.*learning_rate"):
        configure(defaults(), [str(f)])


@pytest.mark.parametrize('text,msg', [
    ("batch_size = 64\nlearning_rate = (1e-3\n", ":2: SyntaxError"),  # the file and the line, not <string>
    ("batch_size = 64\n\nlearning_rate = lr_base * 2\n", ":3: NameError: name 'lr_base' is not defined"),
    ("import math\nbatch_size = int(math.sqrt(-1))\n", ":2: ValueError: math domain error"),
])
def test_broken_config_file_names_file_and_line(tmp_path, text, msg):
    f = tmp_path / 'broken.py'
    f.write_text(text)
    with pytest.raises(ConfigError) as e:
        configure(defaults(), [str(f)])
    assert str(e.value).startswith(f"config file {f}{msg}") and '\n' not in str(e.value), str(e.value)

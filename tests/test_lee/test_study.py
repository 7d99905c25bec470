"""The TOML study description: validation, overrides and the round trip."""

import dataclasses
import sys

import pytest

from lee.study import Study, StudyError, load_study, parse_value

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

PARTIAL = """\
name = "my search"
seed = 7
columns = ["pt_l0", "met", "m_bb"]

[data]
path = "data/events.root:Events"
n_events = 20000

[windows]
scan_range = [60, 300.5]
width = 40
bins = 4

[scan]
efficiencies = [0.2, 0.05, 0.005]
features = ["pt_l0", "met"]

[toys]
n_toys = 1000
backend = "dask"
scheduler = "tcp://10.0.0.1:8786"
"""


def write(tmp_path, text, name="study.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


# -- the round trip --------------------------------------------------------------------


def test_file_to_study_to_file_keeps_every_value(tmp_path):
    original = tomllib.loads(PARTIAL)
    study = load_study(write(tmp_path, PARTIAL))

    written = tomllib.loads(study.to_toml())

    # Every key of the file comes back with its value (ints given for floats come
    # back as the same number); keys the file left out come back at their default.
    for key, value in original.items():
        if isinstance(value, dict):
            for sub, v in value.items():
                assert written[key][sub] == v, f"{key}.{sub}"
        else:
            assert written[key] == value, key
    assert written["toys"]["n_jobs"] == Study().toys.n_jobs


def test_written_file_reads_back_to_an_equal_study(tmp_path):
    study = load_study(write(tmp_path, PARTIAL))

    again = load_study(study.write(tmp_path / "copy" / "study.toml"))

    assert again == study
    assert again.to_toml() == study.to_toml()


def test_defaults_round_trip_without_comments():
    text = Study().to_toml(comments=False)

    assert Study.from_dict(tomllib.loads(text)) == Study()
    assert "#" not in text


def test_strings_with_quotes_backslashes_and_control_characters_round_trip():
    name = 'a "b" \\ c\nd\te\x01 é'
    study = Study(name=name)

    assert tomllib.loads(study.to_toml())["name"] == name


@pytest.mark.parametrize("value", [1e-5, 0.1, 3.0, 123456789.125, 2.5e300])
def test_floats_round_trip_exactly(value):
    study = Study().with_overrides({"windows.width": value})

    assert tomllib.loads(study.to_toml())["windows"]["width"] == value


def test_comments_explain_each_key():
    text = Study().to_toml()

    assert "# number of toys wanted in total" in text
    assert all(len(line) <= 88 for line in text.splitlines())


# -- validation ------------------------------------------------------------------------


def test_unknown_key_is_named_with_the_closest_known_one(tmp_path):
    path = write(tmp_path, "[toys]\nntoys = 5\n")

    with pytest.raises(StudyError, match=r"unknown key 'ntoys' in \[toys\].*'n_toys'"):
        load_study(path)


def test_unknown_top_level_key(tmp_path):
    path = write(tmp_path, "sed = 1\n")

    with pytest.raises(StudyError, match=r"unknown key 'sed' at the top level.*'seed'"):
        load_study(path)


def test_wrong_type_names_key_expected_type_and_value(tmp_path):
    path = write(tmp_path, '[toys]\nn_toys = "500"\n')

    with pytest.raises(StudyError) as info:
        load_study(path)

    message = str(info.value)
    assert "'toys.n_toys'" in message
    assert "an integer" in message
    assert "'500' (a string)" in message
    assert info.value.key == "toys.n_toys"


def test_boolean_is_not_a_number(tmp_path):
    with pytest.raises(
        StudyError, match=r"'windows.bins' must be an integer; got True"
    ):
        load_study(write(tmp_path, "[windows]\nbins = true\n"))


def test_integer_is_accepted_where_a_number_is_expected(tmp_path):
    study = load_study(write(tmp_path, "[windows]\nwidth = 30\n"))

    assert study.windows.width == 30.0
    assert isinstance(study.windows.width, float)


def test_value_outside_the_choices(tmp_path):
    with pytest.raises(StudyError, match=r"one of \['loky', 'dask'\]; got 'spark'"):
        load_study(write(tmp_path, '[toys]\nbackend = "spark"\n'))


def test_value_below_its_minimum(tmp_path):
    with pytest.raises(StudyError, match=r"'scan.n_folds' must be >= 2; got 1"):
        load_study(write(tmp_path, "[scan]\nn_folds = 1\n"))


def test_list_element_of_the_wrong_type(tmp_path):
    with pytest.raises(StudyError, match=r"'scan.efficiencies' must be a list of numb"):
        load_study(write(tmp_path, '[scan]\nefficiencies = [0.1, "x"]\n'))


def test_list_of_the_wrong_length(tmp_path):
    with pytest.raises(StudyError, match=r"a list of 2 numbers; got \[40\]"):
        load_study(write(tmp_path, "[windows]\nscan_range = [40]\n"))


def test_efficiency_above_one_is_refused(tmp_path):
    with pytest.raises(StudyError, match=r"<= 1; got 1.5"):
        load_study(write(tmp_path, "[scan]\nefficiencies = [1.5]\n"))


def test_section_given_as_a_value(tmp_path):
    with pytest.raises(StudyError, match=r"'toys' must be a table \(\[toys\]\); got 3"):
        load_study(write(tmp_path, "toys = 3\n"))


def test_toml_syntax_error_gives_the_line(tmp_path):
    with pytest.raises(StudyError, match=r"not valid TOML.*line 2"):
        load_study(write(tmp_path, "[toys]\nn_toys = = 3\n"))


def test_missing_study_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_study(tmp_path / "nothere.toml")


# -- overrides and paths ---------------------------------------------------------------


def test_overrides_replace_keys_and_are_validated():
    study = Study().with_overrides({"toys.n_toys": 5, "seed": 9})

    assert (study.toys.n_toys, study.seed) == (5, 9)
    with pytest.raises(StudyError, match=r"'toys\.n_toys' must be an integer"):
        study.with_overrides({"toys.n_toys": "many"})


def test_override_of_an_unknown_section():
    with pytest.raises(StudyError, match=r"unknown key 'toy'.*Did you mean 'toys'"):
        Study().with_overrides({"toy.n_toys": 5})


def test_overrides_leave_the_original_unchanged():
    study = Study()

    study.with_overrides({"scan.efficiencies": [0.5]})

    assert study.scan.efficiencies == [0.1, 0.01]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("3", 3),
        ("0.25", 0.25),
        ("[0.1, 0.01]", [0.1, 0.01]),
        ("true", True),
        ('"quoted"', "quoted"),
        ("m_bb", "m_bb"),
        ("tcp://host:8786", "tcp://host:8786"),
    ],
)
def test_command_line_values_are_read_as_toml_or_kept_as_text(text, value):
    assert parse_value(text) == value


def test_relative_paths_resolve_against_the_study_folder(tmp_path):
    path = write(tmp_path, PARTIAL)
    study = load_study(path)

    assert study.resolve(study.data.path) == tmp_path / "data/events.root:Events"
    assert study.store_path == tmp_path / "lee_study" / "toys.sqlite"
    assert study.resolve_events("bundled:ttbar_dilepton/test") == (
        "bundled:ttbar_dilepton/test"
    )


def test_base_dir_is_not_part_of_equality_or_the_file(tmp_path):
    a = Study()
    b = dataclasses.replace(a, base_dir=tmp_path)

    assert a == b
    assert "base_dir" not in a.to_toml()

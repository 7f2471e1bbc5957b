from components.nodes.types import SocketType, is_compatible, split_union


def test_equal_types_link() -> None:
    assert is_compatible("IMAGE", "IMAGE")
    assert is_compatible("CONTROL_NET", "CONTROL_NET")


def test_different_types_do_not_link() -> None:
    assert not is_compatible("IMAGE", "LATENT")
    assert not is_compatible("INT", "FLOAT")


def test_any_matches_everything_both_ways() -> None:
    assert is_compatible("*", "MODEL")
    assert is_compatible("MODEL", "*")


def test_unions_match_on_any_shared_member() -> None:
    assert split_union("INT, FLOAT") == {"INT", "FLOAT"}
    assert is_compatible("INT", "INT,FLOAT")
    assert is_compatible("STRING,INT", "INT")
    assert not is_compatible("STRING,BOOLEAN", "INT,FLOAT")


def test_combo_input_accepts_string_outputs() -> None:
    assert is_compatible(SocketType.STRING, SocketType.COMBO)
    assert is_compatible(SocketType.COMBO, SocketType.COMBO)
    assert not is_compatible(SocketType.INT, SocketType.COMBO)

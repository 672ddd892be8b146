import registry_demo

opened = []


def open_connection():
    opened.append(object())
    return opened[-1]


def test_connection_is_opened_once():
    first = registry_demo.register("db", open_connection)
    assert registry_demo.register("db", open_connection) is first
    assert len(opened) == 1


def test_double():
    assert registry_demo.double(21) == 42


def test_prints(capsys):
    print("hello")
    assert capsys.readouterr().out == "hello\n"

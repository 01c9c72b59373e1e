"""Cutting streamed text into sentences to speak."""

from billy.conversation.sentences import SpokenSentences, ends_sentence, split_sentences


def test_punctuation_line_breaks_and_abbreviations():
    assert split_sentences("One fish. Two fish! Dr. Smith went home.") == [
        "One fish.",
        "Two fish!",
        "Dr. Smith went home.",
    ]
    assert split_sentences("first line without a stop\nsecond? yes") == ["first line without a stop", "second? yes"]


def test_sentences_come_out_while_the_text_streams_in():
    splitter = SpokenSentences()
    assert splitter.add("Hi the") == []  # "Hi" is too short a first piece
    assert splitter.add("re. How are") == ["Hi there."]
    assert splitter.add(" you?") == []
    assert splitter.finish() == ["How are you?"]


def test_a_run_on_answer_is_cut_at_a_word_boundary_before_the_cap():
    splitter = SpokenSentences(max_chars=40, first_chars=40)
    pieces = []
    for word in ("and then " * 20).split(" "):
        pieces += splitter.add(word + " ")
    pieces += splitter.finish()
    assert len(pieces) > 3 and all(len(piece) <= 40 for piece in pieces)
    assert " ".join(pieces).split() == ("and then " * 20).split()


def test_the_first_piece_is_cut_at_a_clause_so_billy_starts_sooner():
    splitter = SpokenSentences()
    pieces = []
    text = "Oh, hello there, my dear friend, how are you doing today? I am fine."
    for word in text.split(" "):  # a stream of words, as a model sends them
        pieces += splitter.add(word + " ")
    assert pieces + splitter.finish() == [
        "Oh,",
        "hello there, my dear friend, how are you doing today?",
        "I am fine.",
    ]
    # A whole text (what the voice services are given) has no first piece to hurry: a cut would be a pause.
    assert split_sentences(text) == ["Oh, hello there, my dear friend, how are you doing today?", "I am fine."]


def test_stage_directions_and_markup_are_not_read_out():
    spoken = split_sentences("*nods* *nods* Hello there. (laughs) The capital is **Paris**. `Yes` #1")
    assert " ".join(spoken) == "Hello there. The capital is Paris. Yes 1"
    assert split_sentences("*smiles*") == [] and split_sentences("Ha! 😂⚡️") == ["Ha!"]
    assert split_sentences("Big (French for grand).") == ["Big (French for grand)."]


def test_a_stage_direction_split_across_the_stream_is_still_dropped():
    splitter = SpokenSentences()
    pieces = []
    for part in ("Well *sh", "rugs sh", "yly* I like ", "old songs (", "laughs", "). Bye."):
        pieces += splitter.add(part)
    assert " ".join(pieces + splitter.finish()) == "Well I like old songs. Bye."


def test_a_first_piece_without_a_clause_is_cut_at_a_word_that_can_end_a_phrase():
    splitter = SpokenSentences()
    pieces = []
    text = "Fish swim in the deep and the dark water of the sea. It is home."
    for word in text.split(" "):
        pieces += splitter.add(word + " ")
    pieces += splitter.finish()
    assert pieces[0] == "Fish swim"  # not "Fish swim in the": a piece ending there sounds cut off
    assert " ".join(pieces).split() == text.split()


def test_the_first_piece_ends_at_the_first_word_that_can_end_a_phrase_as_soon_as_it_is_whole():
    splitter = SpokenSentences()
    assert splitter.add("Paris") == []  # perhaps "Parisian": not whole until the next word begins
    assert splitter.add(" is") == ["Paris"]  # two tokens in, not four: the listener waits for this piece
    assert splitter.add(" the capital of") == []
    assert splitter.add(" France.") + splitter.finish() == ["is the capital of France."]
    splitter = SpokenSentences()
    pieces = [piece for token in ("I", " like", " to", " eat", " fish", ".") for piece in splitter.add(token)]
    assert pieces + splitter.finish() == ["I like to eat", "fish."]  # never on "like" or "to"


def test_a_speaker_label_at_the_start_is_not_read_out():
    splitter = SpokenSentences()
    pieces = []
    for part in ("Bil", "ly: I love", " old songs. Billy: yes."):
        pieces += splitter.add(part)
    assert " ".join(pieces + splitter.finish()) == "I love old songs. Billy: yes."
    assert split_sentences("Billy: Hi.") == ["Hi."]  # a reply that comes whole at the end, too
    assert ends_sentence("I love old songs.") and ends_sentence('He said "yes!"') and not ends_sentence("I love,")

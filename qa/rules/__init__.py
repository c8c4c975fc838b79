"""The rule reader, as small parts: sentence view, candidate generators by family, span
trimming, typed features, named weights, and the reader that wires them."""
from qa.rules.reader import Candidate, RuleReader
from qa.rules.weights import ReaderWeights, TypeWeights

__all__ = ["Candidate", "ReaderWeights", "RuleReader", "TypeWeights"]

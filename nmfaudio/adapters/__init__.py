"""Adapters that turn images and spike waveforms into non-negative matrices and back."""

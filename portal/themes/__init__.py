"""What comments are about: theme and sentiment words, theme shares and their comments."""

"""MuRating: English raters → Bradley–Terry unified scores → a multilingual pairwise rater."""

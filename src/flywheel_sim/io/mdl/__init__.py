"""Reading Vensim .mdl models: the text, equations, subscripts and the data files they name."""

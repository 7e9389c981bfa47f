"""Pure text code, no Spark: what Spark jobs, model tasks and benchmarks share.

``extract`` turns one raw record into a document or a reason; ``input_files`` lists an input
folder and streams each file's records with bounded memory.
"""

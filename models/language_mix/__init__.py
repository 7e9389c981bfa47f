"""MuBench language-mix study: English : second-language ratio × parallel share → small LMs."""

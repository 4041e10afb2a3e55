"""predq's command line: training, workers, the API and the whole local stack."""

"""Visual inspection trained on good parts only: a built-in surface benchmark, unsupervised detectors
(autoencoder, patch statistics, DRAEM-style), threshold calibration, defect regions and metrics; plus a
supervised defect-type classifier for labelled defect folders."""

# Standard parameterization + Muon (hidden matrices) with its auxiliary AdamW (embeddings, lm_head, gains), one
# global LR: the SP baseline for Muon. Same model and data as config/sp_adamw.py. Values are the official ones
# (KellerJordan/Muon muon.py, MuonWithAuxAdam): Muon lr 0.02, momentum 0.95, Nesterov, 5 Newton-Schulz steps,
# wd 0; aux Adam lr 3e-4 (= 0.02 x muon_adam_lr_ratio 0.015), betas (0.9, 0.95), eps 1e-10, wd 0.
# $ python train.py config/sp_muon.py
# $ torchrun --standalone --nproc_per_node=4 train.py config/sp_muon.py
include('shakespeare_char.py')  # the shared model, data and schedule; below: what this run changes
parameterization = 'sp'
lr_scaling = 'global'
optimizer = 'muon'
learning_rate = 0.02  # official Muon lr; the AdamW roles get 0.02 * 0.015 = 3e-4 (official aux lr)
eps = 1e-10  # official aux Adam eps

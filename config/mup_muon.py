# muP + Muon on Tiny Shakespeare (char): the model of config/mup_adamw.py (6 layers, width 384, heads of 64, base
# width 128), per-layer LRs under full alignment. Muon's hidden update has spectral norm lr * sqrt(max(1,
# fan_out/fan_in)) at every width, so its family is `invariant` (hidden LR constant in width); the auxiliary AdamW
# roles (embedding, readout, vectors) take Adam's muP exponents (optim/muon.py role_family).
# Values are the official ones (KellerJordan/Muon muon.py, MuonWithAuxAdam): Muon lr 0.02, momentum 0.95,
# Nesterov, 5 Newton-Schulz steps, wd 0; aux Adam lr 3e-4 at the base width (= 0.02 x muon_adam_lr_ratio 0.015),
# betas (0.9, 0.95), eps 1e-10.
# Prepare the data first: python data/shakespeare_char/prepare.py
# $ torchrun --standalone --nproc_per_node=1 train.py config/mup_muon.py
# $ python train.py config/mup_muon.py --n_embd=768        (same LR: that is the point of muP)
include('shakespeare_char.py')  # the shared model, data and schedule; below: what this run changes
optimizer = 'muon'
learning_rate = 0.02  # official Muon lr (the base-width LR; hidden groups keep it at every width)
eps = 1e-10  # official aux Adam eps

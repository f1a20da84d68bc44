"""VideoMAE ViT-B (Tong et al., NeurIPS 2022) for classification: 16 frames at 224, tubelets of 2 x 16 x 16,
joint space-time attention, mean pooling + fc_norm; Hugging Face's `VideoMAEForVideoClassification` layout.

Import a released checkpoint (a Hugging Face folder, e.g. MCG-NJU/videomae-base-finetuned-kinetics, downloaded
by you), then fine-tune it on UCF101 (the classifier is replaced for the new classes):

  python -m vidjax.weights --hf videomae-base-finetuned-kinetics --out weights/videomae_k400
  python main.py --config=configs/videomae_b.py --workdir=runs/videomae_ucf101 \
    --config.init.path=weights/videomae_k400 \
    --config.dataset.name=ucf101 --config.dataset.data_dir=/data/UCF-101

Expected (published, not measured here): the release reports 81.5 % top-1 on Kinetics-400 for this model and
96.1 % on UCF101 split 1 fine-tuned from Kinetics (MCG-NJU/VideoMAE model zoo). The paper's fine-tuning recipe
(layer-wise learning-rate decay, drop path, mixup + cutmix, RandAugment) is not yet in vidjax, so expect lower.
The model computes transformers' logits on the same weights (tests/vidjax/models/test_video_vit.py).
"""

from vidjax.config import base_config


def get_config():
  c = base_config("video_vit")
  c.input.frame_size = 224  # crops of a short side of 256, as the release fine-tunes
  c.dataset.store_short_side = 256
  c.train.batch_size = 8
  c.eval_batch_size = 8
  c.train.learning_rate = 5e-4 * 8 / 256  # the release's base rate, scaled to the batch
  return c

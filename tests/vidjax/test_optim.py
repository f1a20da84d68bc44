"""vidjax.optim: the learning-rate schedules."""











import numpy as np

from vidjax import optim


def test_step_schedule_decays_in_stairs(tiny_config):
  t = tiny_config.train
  t.schedule, t.warmup_steps, t.learning_rate, t.step_decay_every, t.step_decay_factor = "step", 2, 1.0, 3, 0.1
  _, lr = optim.make_optimizer(t)
  np.testing.assert_allclose([float(lr(s)) for s in range(9)], [0, 0.5, 1, 1, 1, 0.1, 0.1, 0.1, 0.01], rtol=1e-6)


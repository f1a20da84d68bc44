"""vidjax.metric_writer: event files TensorBoard reads back, without TensorFlow."""



import numpy as np


def test_summary_writer_files_read_back_with_tensorboard(tmp_path):
  from tensorboard.backend.event_processing import event_accumulator
  from tensorboard.plugins.hparams import plugin_data_pb2
  from tensorboard.util import tensor_util

  from vidjax import metric_writer
  from vidjax.reports import plots

  w = metric_writer.create_default_writer(str(tmp_path))
  for step in (1, 2, 3):
    w.write_scalars(step, {"train_loss": 1.0 / step, "test_accuracy": 0.25 * step})
  cm = np.array([[5, 1], [0, 6]])
  w.write_images(3, {"test_confusion": plots.confusion_heatmap(cm, cell=4)})
  w.write_hparams({"train.learning_rate": 0.003, "model.name": "csn", "train.remat": False})
  w.close()

  acc = event_accumulator.EventAccumulator(str(tmp_path), size_guidance={event_accumulator.TENSORS: 0})
  acc.Reload()
  loss = [(e.step, float(tensor_util.make_ndarray(e.tensor_proto))) for e in acc.Tensors("train_loss")]
  assert loss == [(1, 1.0), (2, 0.5), (3, pytest_approx(1 / 3))]
  image = acc.Tensors("test_confusion")[0]
  w_, h_, png = tensor_util.make_ndarray(image.tensor_proto)
  assert (int(w_), int(h_)) == (8, 8)
  import cv2
  decoded = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR_RGB)
  assert decoded.shape == (8, 8, 3)
  assert acc.summary_metadata["test_confusion"].plugin_data.plugin_name == "images"
  hp = acc.summary_metadata["_hparams_/session_start_info"].plugin_data
  info = plugin_data_pb2.HParamsPluginData.FromString(hp.content).session_start_info
  assert info.hparams["model.name"].string_value == "csn" and info.hparams["train.learning_rate"].number_value == 0.003


def pytest_approx(x):
  import pytest
  return pytest.approx(x, rel=1e-6)


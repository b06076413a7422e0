"""Train the demo digits CNN (scikit-learn's bundled 8x8 digits) and export fp32 ONNX plus a held-out eval set.

Offline only: needs torch (`pip install /opt/wheels/torch-2.13.0+cpu-...whl`), which is not a run-time requirement.
Run: .venv/bin/python scripts/train_digits_cnn.py [--out-dir modelhub/demo]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import onnx
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

SEED = 0


class DigitsCNN(nn.Module):
    """Two 3x3 convolutions, a max-pool and two dense layers: about 57k parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(32 * 4 * 4, 104), nn.ReLU(), nn.Linear(104, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


def load_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None, :, :]
    y = digits.target.astype(np.int64)
    return train_test_split(x, y, test_size=0.25, random_state=SEED, stratify=y)


def train(model: nn.Module, x: np.ndarray, y: np.ndarray, epochs: int) -> None:
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    gen = torch.Generator().manual_seed(SEED)
    for _ in range(epochs):
        model.train()
        order = torch.randperm(len(xt), generator=gen)
        for start in range(0, len(xt), 64):
            idx = order[start : start + 64]
            # Small random shifts: the 8x8 images are tiny and the net overfits without them.
            batch = torch.roll(xt[idx], shifts=tuple(torch.randint(-1, 2, (2,), generator=gen).tolist()), dims=(2, 3))
            loss = nn.functional.cross_entropy(model(batch), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out-dir", type=Path, default=Path(__file__).resolve().parent.parent / "modelhub" / "demo")
    parser.add_argument("--epochs", type=int, default=40)
    args = parser.parse_args()
    torch.manual_seed(SEED)
    x_train, x_test, y_train, y_test = load_split()
    model = DigitsCNN()
    train(model, x_train, y_train, args.epochs)
    model.eval()
    with torch.no_grad():
        acc = (model(torch.from_numpy(x_test)).argmax(1).numpy() == y_test).mean()
    params = sum(p.numel() for p in model.parameters())
    args.out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = args.out_dir / "digits_cnn.onnx"
    torch.onnx.export(
        model,
        (torch.from_numpy(x_test[:1]),),
        str(onnx_path),
        input_names=["input"],
        output_names=["logits"],
        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
        opset_version=17,
        dynamo=False,
        external_data=False,
    )
    proto = onnx.load(str(onnx_path))
    proto.doc_string = "Digits CNN (sklearn 8x8 digits), fp32 reference for modelhub compression demos."
    onnx.save(proto, str(onnx_path))
    np.savez_compressed(args.out_dir / "digits_eval.npz", inputs=x_test, labels=y_test)
    print(f"params={params} held-out top-1={acc:.4f} eval_samples={len(y_test)} -> {onnx_path}")


if __name__ == "__main__":
    main()

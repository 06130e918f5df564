"""PyTorch's tutorial "Learning PyTorch with Examples": fit ``y = sin(x)`` with a third
order polynomial, first with tensors and autograd (manual ``a -= learning_rate * a.grad``
updates under ``no_grad``), then with ``nn.Sequential`` and ``MSELoss``, ported.

The only edit from the PyTorch program is the import line. The tutorial's loops are
wrapped in functions (``fit_autograd``, ``fit_nn``) with their constants as arguments so
``tests/test_pytorch_ports.py`` can run them under both libraries from the same
starting point and compare in float64.

Run: ``python examples/pytorch_ports/polynomial.py`` (``--steps 200`` for a quick run).
"""

import argparse
import math

import autograd_cnn as torch


def fit_autograd(x, y, a, b, c, d, learning_rate=1e-6, steps=2000, log=print):
    for t in range(steps):
        # Forward pass: compute predicted y using operations on Tensors.
        y_pred = a + b * x + c * x ** 2 + d * x ** 3

        # Compute and print loss using operations on Tensors.
        # Now loss is a Tensor of shape (1,)
        # loss.item() gets the scalar value held in the loss.
        loss = (y_pred - y).pow(2).sum()
        if t % 100 == 99:
            log(t, loss.item())

        # Use autograd to compute the backward pass.
        loss.backward()

        # Manually update weights using gradient descent. Wrap in torch.no_grad()
        # because weights have requires_grad=True, but we don't need to track this
        # in autograd.
        with torch.no_grad():
            a -= learning_rate * a.grad
            b -= learning_rate * b.grad
            c -= learning_rate * c.grad
            d -= learning_rate * d.grad

            # Manually zero the gradients after updating weights
            a.grad = None
            b.grad = None
            c.grad = None
            d.grad = None
    return loss.item()


def make_model(dtype=torch.float):
    model = torch.nn.Sequential(
        torch.nn.Linear(3, 1),
        torch.nn.Flatten(0, 1)
    )
    return model.to(dtype)


def fit_nn(x, y, model, learning_rate=1e-6, steps=2000, log=print):
    # Prepare the input tensor (x, x^2, x^3).
    p = torch.tensor([1, 2, 3])
    xx = x.unsqueeze(-1).pow(p)

    loss_fn = torch.nn.MSELoss(reduction='sum')
    for t in range(steps):
        y_pred = model(xx)
        loss = loss_fn(y_pred, y)
        if t % 100 == 99:
            log(t, loss.item())

        # Zero the gradients before running the backward pass.
        model.zero_grad()
        loss.backward()

        # Update the weights using gradient descent. Each parameter is a Tensor, so
        # we can access its gradients like we did before.
        with torch.no_grad():
            for param in model.parameters():
                param -= learning_rate * param.grad
    return loss.item()


def main(argv=None):
    parser = argparse.ArgumentParser(description="polynomial fit of sin(x)")
    parser.add_argument("--steps", type=int, default=2000)
    args = parser.parse_args(argv)

    dtype = torch.float
    device = torch.device("cpu")
    # device = torch.device("cuda:0")  # Uncomment this to run on GPU

    # Create Tensors to hold input and outputs.
    # By default, requires_grad=False, which indicates that we do not need to
    # compute gradients with respect to these Tensors during the backward pass.
    x = torch.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype)
    y = torch.sin(x)

    # Create random Tensors for weights. For a third order polynomial, we need
    # 4 weights: y = a + b x + c x^2 + d x^3
    # Setting requires_grad=True indicates that we want to compute gradients with
    # respect to these Tensors during the backward pass.
    a = torch.randn((), device=device, dtype=dtype, requires_grad=True)
    b = torch.randn((), device=device, dtype=dtype, requires_grad=True)
    c = torch.randn((), device=device, dtype=dtype, requires_grad=True)
    d = torch.randn((), device=device, dtype=dtype, requires_grad=True)

    loss = fit_autograd(x, y, a, b, c, d, steps=args.steps)
    print(f'Result: y = {a.item()} + {b.item()} x + {c.item()} x^2 + {d.item()} x^3')

    model = make_model(dtype)
    loss_nn = fit_nn(x, y, model, steps=args.steps)
    linear_layer = model[0]
    print(f'Result: y = {linear_layer.bias.item()} + {linear_layer.weight[:, 0].item()} x + '
          f'{linear_layer.weight[:, 1].item()} x^2 + {linear_layer.weight[:, 2].item()} x^3')
    return loss, loss_nn


if __name__ == "__main__":
    main()

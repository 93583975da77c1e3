"""English titles and statements of the drills (the Chinese ones live beside the code in
drills.py). Only what a learner reads before solving: hints and explanations stay Chinese.
Keyed by drill id; tests check every drill has one."""

from __future__ import annotations

DIFFICULTY = {"入门": "Beginner", "中等": "Intermediate", "进阶": "Advanced"}

COMMON_RULES = """
Common rules: inputs are copies of NumPy arrays, **do not modify them in place**; the output dtype
follows the input (float64 in, float64 out; for float32 input return float32 or higher precision);
values are compared with `rtol=1e-6, atol=1e-8` for float64 and `rtol=1e-4, atol=1e-5` for
float32, and shapes must match exactly.
"""

STATEMENTS: dict[str, tuple[str, str]] = {
    "sigmoid": (
        "Sigmoid activation",
        r"""
Implement the sigmoid (logistic function), element-wise:

$$\sigma(x) = \frac{1}{1 + e^{-x}}$$

- `x`: a float array of any shape.
- Returns: an array with the shape and dtype of `x`.
- Give finite, correct results for very large $|x|$ too: $\sigma(1000) = 1$, $\sigma(-1000) \approx 0$.

Practises the sigmoid in the notes 「神经网络结构 › 激活函数」 (network structure › activation functions).
""",
    ),
    "relu": (
        "ReLU activation",
        r"""
Implement ReLU (Rectified Linear Unit), element-wise:

$$\mathrm{ReLU}(x) = \max(0, x)$$

- `x`: a float array of any shape.
- Returns: a **new** array with the shape and dtype of `x`.

Practises ReLU in the notes 「神经网络结构 › 激活函数」 (activation functions).
""",
    ),
    "leaky_relu": (
        "Leaky ReLU activation",
        r"""
Implement Leaky ReLU, element-wise:

$$f(x) = \begin{cases} x, & x > 0 \\ \alpha x, & x \le 0 \end{cases}$$

- `x`: a float array of any shape; `alpha`: a non-negative float, default 0.01, passed by position
  or by keyword.
- `alpha` can be any non-negative number (like PyTorch's `negative_slope`), values above 1 included.
- Returns: a new array with the shape and dtype of `x`.

Practises Leaky ReLU in the notes 「神经网络结构 › 激活函数」 (activation functions).
""",
    ),
    "softmax": (
        "Numerically stable softmax",
        r"""
Compute the softmax along the axis `axis`:

$$\mathrm{softmax}(x)_i = \frac{e^{x_i}}{\sum_j e^{x_j}}$$

- `x`: a float array of any shape (1-D, 2-D, 3-D, …); `axis`: the axis to normalise, default the
  last one, may be negative.
- Returns: an array with the shape and dtype of `x` whose entries sum to 1 along `axis`.
- It must be numerically stable: inputs can be as large as 1000 or −1000, and different rows of
  the same array can have very different ranges.

Practises the softmax in 「神经网络结构 › 激活函数」 and the interview question on avoiding overflow.
""",
    ),
    "sigmoid_backward": (
        "Backward pass of the sigmoid",
        r"""
The forward pass is $\text{out} = \sigma(x)$. Given the upstream gradient
`dout` $= \partial L / \partial\,\text{out}$, compute `dx` $= \partial L / \partial x$:

$$\frac{\partial L}{\partial x} = \text{dout} \odot \sigma(x)\,\bigl(1 - \sigma(x)\bigr)$$

- `dout`, `x`: float arrays of the same (any) shape. Note that `x` is the sigmoid's **input**, not
  its output.
- Returns: `dx`, with the shape and dtype of `x`.
- For very large $|x|$ (such as ±1000) the result must be finite (the gradient is then about 0).

Practises the chain rule in 「反向传播与梯度计算 › 反向传播」 (backpropagation) and the sigmoid's
saturating gradient.
""",
    ),
    "relu_backward": (
        "Backward pass of ReLU",
        r"""
The forward pass is $\text{out} = \max(0, x)$. Given the upstream gradient `dout`, compute `dx`:

$$\frac{\partial L}{\partial x} = \begin{cases} \text{dout}, & x > 0 \\ 0, & x \le 0 \end{cases}$$

- `dout`, `x`: float arrays of the same (any) shape.
- ReLU has no derivative at $x = 0$; as in PyTorch, take the gradient there to be **0**.
- Returns: `dx`, a new array with the shape and dtype of `x` (do not modify `dout`).

Practises 「反向传播与梯度计算 › 反向传播」 (backpropagation) and the "dying ReLU" of the activation notes.
""",
    ),
    "linear_backward": (
        "Backward pass of a fully connected layer",
        r"""
The forward pass of a fully connected layer is $\text{out} = xW + b$, where

- `x`: shape (N, D), `w`: shape (D, M), `b`: shape (M,), `dout` $= \partial L/\partial\,\text{out}$:
  shape (N, M).

Return the tuple `(dx, dw, db)` with shapes (N, D), (D, M) and (M,):

$$\frac{\partial L}{\partial x} = \text{dout}\, W^\top,\qquad
\frac{\partial L}{\partial W} = x^\top \text{dout},\qquad
\frac{\partial L}{\partial b} = \sum_{n} \text{dout}_{n,:}$$

Practises "computing each layer's weight gradient (∂L/∂W)" in 「反向传播与梯度计算 › 反向传播」.
""",
    ),
    "softmax_cross_entropy": (
        "Softmax cross-entropy loss and its gradient",
        r"""
Given unnormalised scores `logits` (shape (N, C)) and integer labels `labels` (shape (N,), values
0…C−1), compute the batch-mean softmax cross-entropy and its gradient with respect to the logits:

$$L = -\frac{1}{N}\sum_{n=1}^{N} \log \frac{e^{z_{n,y_n}}}{\sum_{c} e^{z_{n,c}}},\qquad
\frac{\partial L}{\partial z} = \frac{1}{N}\bigl(\mathrm{softmax}(z) - \mathrm{onehot}(y)\bigr)$$

- Return the tuple `(loss, dlogits)`: `loss` is a float scalar (a Python float, np.float64 or a
  0-d array all work), `dlogits` has shape (N, C).
- Matches PyTorch's `F.cross_entropy(logits, labels)` (default `reduction="mean"`).
- It must be numerically stable: logits can reach ±1000, and the model can be extremely confident
  in a wrong answer (the loss is then large, but finite).

Practises "computing the loss" and "the output layer's gradient (∂L/∂y)" in
「反向传播与梯度计算 › 反向传播」.
""",
    ),
    "mlp_backward": (
        "Backward pass of a two-layer MLP",
        r"""
Implement the forward pass, the loss and the backward pass of a two-layer fully connected network:

$$h = \mathrm{ReLU}(x W_1 + b_1),\qquad z = h W_2 + b_2,\qquad
L = -\frac{1}{N}\sum_{n} \log \mathrm{softmax}(z_n)_{y_n}$$

- `x`: (N, D), `labels`: (N,) integers, `w1`: (D, H), `b1`: (H,), `w2`: (H, C), `b2`: (C,).
- Return the tuple `(loss, dw1, db1, dw2, db2)`: `loss` is a float scalar, each gradient has the
  shape of its parameter.
- ReLU's gradient is 0 where the pre-activation is exactly 0; the loss must be numerically stable.

Practises the four steps of 「反向传播与梯度计算 › 反向传播」: forward pass, loss, backward pass,
(parameter update).
""",
    ),
    "batchnorm_forward": (
        "Batch normalization forward (with running statistics)",
        r"""
Implement the batch normalization forward pass as `torch.nn.BatchNorm1d` does it. `x` has shape
(N, D); `gamma`, `beta`, `running_mean` and `running_var` have shape (D,).

**Training mode** (`training=True`): normalise with the mean and the **biased** variance along the
batch axis

$$\mu_B = \frac{1}{N}\sum_i x_i,\quad \sigma_B^2 = \frac{1}{N}\sum_i (x_i-\mu_B)^2,\quad
\text{out} = \gamma\,\frac{x - \mu_B}{\sqrt{\sigma_B^2 + \epsilon}} + \beta$$

and update the running statistics (`running_var` uses the **unbiased** variance
$\frac{N}{N-1}\sigma_B^2$):

$$\text{running\_mean} \leftarrow (1-m)\,\text{running\_mean} + m\,\mu_B,\qquad
\text{running\_var} \leftarrow (1-m)\,\text{running\_var} + m\,\tfrac{N}{N-1}\sigma_B^2$$

**Eval mode** (`training=False`): normalise with `running_mean` and `running_var`; return the
running statistics unchanged.

- Return the tuple `(out, running_mean, running_var)` (updated **new** arrays; do not modify the
  arrays passed in, unlike PyTorch's buffers). In training mode N ≥ 2.

Practises how batch normalization works in 「反向传播与梯度计算 › 归一化技术」 (normalization).
""",
    ),
    "batchnorm_backward": (
        "Batch normalization backward pass",
        r"""
In training mode the batch normalization forward pass is (statistics along the batch axis, biased
variance):

$$\hat{x} = \frac{x - \mu_B}{\sqrt{\sigma_B^2 + \epsilon}},\qquad \text{out} = \gamma\,\hat{x} + \beta$$

Given the upstream gradient `dout` (shape (N, D)), the input `x` ((N, D)) and `gamma` ((D,)), return
`(dx, dgamma, dbeta)` with shapes (N, D), (D,) and (D,). Note that $\mu_B$ and $\sigma_B^2$ are both
functions of $x$: the gradient flows back to $x$ through them as well.

Practises 「反向传播与梯度计算 › 归一化技术」: the chain rule applied to batch normalization.
""",
    ),
    "layernorm_forward": (
        "Layer normalization forward",
        r"""
Implement layer normalization as `torch.nn.LayerNorm(D)` does it: normalise **each sample** along
the last (feature) axis,

$$\mu = \frac{1}{D}\sum_{d} x_d,\quad \sigma^2 = \frac{1}{D}\sum_d (x_d - \mu)^2,\quad
\text{out} = \gamma\,\frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}} + \beta$$

- `x`: a float array of rank ≥ 2, such as (N, D) or (B, T, D); `gamma`, `beta`: (D,).
- Returns: `out`, with the shape and dtype of `x`.

Practises layer normalization in 「反向传播与梯度计算 › 归一化技术」 (the difference from batch
normalization: the axis the statistics run over).
""",
    ),
    "layernorm_backward": (
        "Layer normalization backward pass",
        r"""
The layer normalization forward pass is (statistics along the last axis, biased variance):

$$\hat{x} = \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}},\qquad \text{out} = \gamma\,\hat{x} + \beta$$

Given the upstream gradient `dout` and the input `x` (same shape, rank ≥ 2, last axis D) and
`gamma` ((D,)), return `(dx, dgamma, dbeta)`: `dx` has the shape of `x`; `dgamma` and `dbeta` have
shape (D,) and **sum over every axis but the last**.

Practises layer normalization in 「反向传播与梯度计算 › 归一化技术」 (normalization).
""",
    ),
}


def title(drill_id: str, default: str) -> str:
    return STATEMENTS.get(drill_id, (default, ""))[0]


def statement_md(drill_id: str) -> str | None:
    """The English statement with the common rules, or None when there is none."""
    entry = STATEMENTS.get(drill_id)
    return None if entry is None else entry[1].strip() + "\n" + COMMON_RULES

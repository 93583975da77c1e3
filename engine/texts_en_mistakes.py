"""English title and explanation of every catalogued mistake (engine.mistakes), by mistake id.

Written for an English-speaking learner rather than word for word: same teaching, no code given.
"""

from __future__ import annotations

MISTAKES: dict[str, tuple[str, str]] = {
    # ---- sigmoid
    "sigmoid.exp_ratio": (
        "Written as e^x / (1 + e^x): NaN for large x",
        "Mathematically the same, but e^x overflows to inf once x passes about 709, and "
        "inf / inf is NaN. Keep the exponent from ever being positive: split on the sign of x "
        "and write both cases with e^{-|x|}, so numerator and denominator stay finite.",
    ),
    "sigmoid.sign": (
        "The exponent's sign is flipped: this computes σ(−x)",
        "σ(x) = 1 / (1 + e^{−x}): the denominator has e to the power minus x. With e^{x} you get "
        "1 − σ(x) = σ(−x): both are 0.5 at x = 0, everywhere else the curve is mirrored (the "
        "larger x, the smaller the result).",
    ),
    "sigmoid.one_minus": (
        "1 − 1/(1 + e^x) on the negative side: the tail's digits cancel",
        "For very negative x, σ(x) is tiny (σ(−30) ≈ 9.4e−14), and “1 minus a number very close "
        "to 1” cancels the significant digits, leaving rounding error or 0. On the negative side "
        "use the form without a subtraction, e^{x} / (1 + e^{x}), which keeps relative accuracy "
        "in the tail.",
    ),
    "sigmoid.tanh_form": (
        "(1 + tanh(x/2)) / 2: accuracy lost in the negative tail",
        "The identity σ(x) = (1 + tanh(x/2)) / 2 holds, but for very negative x tanh(x/2) is "
        "almost −1 and 1 + tanh cancels the digits, leaving 0 or rounding error, a large "
        "relative error. On the negative side use e^{x} / (1 + e^{x}).",
    ),
    "sigmoid.in_place": (
        "The result was written back into the input array x",
        "The values are right, but the caller's x was changed (in-place assignment, an `out=` "
        "argument or `x[...] = ...`). In a network the forward input is often kept for "
        "backpropagation; return a new array.",
    ),
    # ---- relu
    "relu.in_place": (
        "The negative entries of x were set to 0 in place",
        "The values are right, but boolean-index assignment changed the caller's x. "
        "Backpropagation needs the forward input, and modifying it in place quietly breaks it. "
        "Copy first, or use the element-wise maximum function to get a new array directly.",
    ),
    "relu.mask": (
        "Returned the mask x > 0 instead of ReLU's values",
        "`x > 0` only says which entries are positive (that is ReLU's derivative); ReLU wants x "
        "itself at those entries and 0 elsewhere. Multiply the mask by x, or take the "
        "element-wise maximum with 0.",
    ),
    "relu.np_max": (
        "np.max(x, 0) reduces along axis 0",
        "np.max's second argument is the axis: it takes the maximum along axis 0 and shrinks "
        "the array (a 1-D input becomes a single number) instead of comparing each element with "
        "0. The element-wise maximum of two arrays is a different function (one letter longer).",
    ),
    "relu.leaky": (
        "A slope of 0.01 is kept on the negative side: that is Leaky ReLU",
        "ReLU outputs exactly 0 for x ≤ 0; multiplying by a small slope is the definition of "
        "Leaky ReLU (used against “dying ReLU”).",
    ),
    # ---- leaky_relu
    "leaky_relu.max_form": (
        "max(αx, x) fails when α > 1",
        "max(αx, x) equals the piecewise definition only for 0 ≤ α ≤ 1; for α > 1 it picks αx "
        "on the positive side and x on the negative side, both wrong. The task allows any "
        "non-negative α (like PyTorch's negative_slope): choose per element on the condition "
        "x > 0.",
    ),
    "leaky_relu.fixed_alpha": (
        "The slope is hard-coded as 0.01; the alpha argument is ignored",
        "The default 0.01 applies only when the caller passes no alpha; the tests pass other "
        "slopes, positionally and by keyword. Multiply the negative side by the alpha argument.",
    ),
    "leaky_relu.plain_relu": (
        "The negative side outputs 0: that is plain ReLU",
        "Leaky ReLU outputs αx, not 0, for x ≤ 0; that small slope is exactly what keeps a "
        "neuron with negative input learning instead of “dying”.",
    ),
    "leaky_relu.swapped": (
        "The two branches are swapped: the positive side is multiplied by α",
        "For x > 0 the output is x unchanged, for x ≤ 0 it is αx. Check which value each "
        "branch of the condition takes.",
    ),
    "leaky_relu.in_place": (
        "The input array x was multiplied by α in place",
        "The values are right, but the caller's x was changed. Return a new array (copy first, "
        "or use a function that selects by condition).",
    ),
    # ---- softmax
    "softmax.no_shift": (
        "The maximum is not subtracted first: exp overflows on large inputs",
        "e^{1000} is beyond float64's range and becomes inf, and inf / inf is NaN; when every "
        "input is a large negative number, e^x underflows to 0 everywhere and you get 0 / 0. "
        "Subtracting the same constant does not change softmax: subtract each slice's maximum "
        "and every exponent is ≤ 0, with the largest term exactly 1.",
    ),
    "softmax.global_max": (
        "Subtracts the whole array's maximum instead of each slice's own",
        "A global maximum is fine for 1-D input only. When one row (or column) is much smaller "
        "than the largest one, subtracting the global maximum underflows it entirely to 0, "
        "giving 0 / 0. Take the maximum along axis, one per slice, with keepdims so it "
        "broadcasts.",
    ),
    "softmax.shift_min": (
        "Subtracts each slice's minimum: slices with a wide range still overflow",
        "Subtracting any constant leaves the result unchanged, but only the maximum guarantees "
        "every exponent is ≤ 0. After subtracting the minimum, a slice holding both −1000 and "
        "1000 has an exponent of 2000, and e^2000 overflows to inf.",
    ),
    "softmax.shift_mean": (
        "Subtracts each slice's mean: slices with a wide range still overflow",
        "The mean only moves the values towards 0; it does not make the largest term ≤ 0. In a "
        "slice with one 1000 and many −1000s, 1000 minus the mean is still far above 709 and e^x "
        "overflows to inf. Only each slice's maximum is safe.",
    ),
    "softmax.last_axis": (
        "The axis argument is ignored: always normalises along the last axis",
        "The tests pass axis=0, and axis=1 for 3-D input. Both the maximum and the sum must run "
        "along the caller's axis, with keepdims=True so they broadcast against the input.",
    ),
    "softmax.whole_sum": (
        "The denominator is the sum of the whole array, not the sum along axis",
        "Softmax makes each slice along axis sum to 1. Summing the whole array is right only for "
        "1-D input; for 2-D input it is all the elements together that sum to 1. Give the sum "
        "the axis too, with keepdims.",
    ),
    # ---- sigmoid_backward
    "sigmoid_backward.x_as_output": (
        "The input x is used as if it were sigmoid's output: x(1 − x)",
        "In σ'(x) = σ(x)(1 − σ(x)) it is the sigmoid's output that appears. Frameworks keep the "
        "forward output s and compute s(1 − s); this task gives you the input x, so compute "
        "s = σ(x) first.",
    ),
    "sigmoid_backward.no_dout": (
        "The upstream gradient dout is not multiplied in: only σ'(x) is returned",
        "Chain rule: ∂L/∂x = ∂L/∂out · ∂out/∂x. σ'(x) is only the local derivative; multiply it "
        "element-wise by the dout you were given.",
    ),
    "sigmoid_backward.unstable": (
        "The derivative as e^{−x} / (1 + e^{−x})²: NaN for large |x|",
        "For very negative x this expression is inf / inf = NaN. Compute s = σ(x) in a stable "
        "way first, then s(1 − s): both factors lie in [0, 1], nothing overflows, and the "
        "saturated regions naturally give about 0.",
    ),
    "sigmoid_backward.sign": (
        "The derivative's sign is flipped: σ(x)(σ(x) − 1)",
        "σ is increasing, so its derivative is positive everywhere: "
        "σ'(x) = σ(x)(1 − σ(x)) ≥ 0. Check the order of the two terms in the bracket.",
    ),
    # ---- relu_backward
    "relu_backward.ge_zero": (
        "The condition is x >= 0: the gradient leaks through where x is exactly 0",
        "ReLU is not differentiable at 0 and frameworks use the subgradient 0 there (PyTorch "
        "does). The mask must be the strict x > 0, or positions where x is exactly 0 pass dout "
        "on.",
    ),
    "relu_backward.no_mask": (
        "No mask: dout is passed straight back",
        "ReLU's local derivative is 0 where x ≤ 0: the gradient must be blocked there and only "
        "let through where x > 0.",
    ),
    "relu_backward.mask_only": (
        "Only the mask is returned; the upstream gradient dout is not multiplied in",
        "(x > 0) is ReLU's local derivative; the chain rule still multiplies it element-wise by "
        "dout.",
    ),
    "relu_backward.mask_by_dout": (
        "The mask comes from dout instead of the forward input x",
        "Whether the gradient flows is decided by ReLU's forward input x (the derivative is 1 "
        "where x > 0), not by the sign of the upstream gradient.",
    ),
    "relu_backward.in_place": (
        "The upstream gradient dout was zeroed in place",
        "The values are right, but the dout passed in was changed: in a real network the same "
        "upstream gradient may still flow into another branch. Copy first, or use a function "
        "that selects by condition to get a new array.",
    ),
    # ---- linear_backward
    "linear_backward.db_mean": (
        "db is a mean instead of a sum",
        "In the forward pass b is broadcast to every row of the batch, and every row "
        "contributes to it, so the backward pass adds those contributions up. Averaging over "
        "the batch makes db N times too small (right by luck for a batch of 1). The loss's 1/N "
        "is already inside dout.",
    ),
    "linear_backward.dw_transposed": (
        "dw is transposed: computed as dout.T · x",
        "A gradient has the shape of its parameter: w is (D, M), so dw must be (D, M) too. Line "
        "the shapes up: (D, N) times (N, M), that is the input transposed on the left and the "
        "upstream gradient on the right.",
    ),
    "linear_backward.db_not_summed": (
        "db is not summed over the batch: dout is returned as is",
        "b has shape (M,), so db must be (M,) too. Broadcasting in the forward pass becomes a "
        "sum over the batch axis (axis 0) in the backward pass.",
    ),
    "linear_backward.db_wrong_axis": (
        "db is summed along the wrong axis (axis 1)",
        "db sums over the samples of the batch, which is axis 0, giving shape (M,); summing "
        "along axis 1 gives each sample's total gradient, shape (N,).",
    ),
    "linear_backward.extra_mean": (
        "dw and db are divided by N once more",
        "This layer does not know whether the loss is a sum or a mean: dout already carries the "
        "loss's scaling. dw = xᵀ·dout and db = Σ dout need no further division by the batch "
        "size.",
    ),
    # ---- softmax_cross_entropy
    "softmax_cross_entropy.log_of_probs": (
        "log of the softmax output: the loss becomes inf when a probability underflows to 0",
        "When the correct class's logit is far below the maximum (by 1000, say), its "
        "probability underflows to 0 and log(0) = −inf. Compute log-softmax directly: "
        "log p = (z − max) − log Σ e^{z − max}, which never takes the log of 0.",
    ),
    "softmax_cross_entropy.log_eps": (
        "log(p + 1e-12): no inf, but the loss is capped",
        "The small constant avoids log(0), but an extremely confident wrong prediction should "
        "have a large loss (about the gap between the logits), and it is capped at "
        "−log(1e−12) ≈ 27.6. Log-softmax computed directly is both stable and exact.",
    ),
    "softmax_cross_entropy.sum_not_mean": (
        "Loss and gradient are summed over the batch, not averaged",
        'The task follows PyTorch\'s reduction="mean": the loss is the mean over the N samples '
        "and the gradient carries 1/N with it. A sum makes both N times too large (right by "
        "luck for a batch of 1).",
    ),
    "softmax_cross_entropy.grad_not_divided": (
        "The gradient lacks 1/N: the loss is a mean but the gradient is not",
        "The loss is a mean, so its derivative with respect to each logit carries 1/N too: "
        "(softmax − onehot) / N. Loss and gradient must use the same reduction.",
    ),
    "softmax_cross_entropy.no_onehot": (
        "The gradient does not subtract the one-hot labels",
        "∂L/∂z = (softmax(z) − onehot(y)) / N: subtract 1 at the correct class. Returning "
        "softmax / N alone ignores the labels.",
    ),
    "softmax_cross_entropy.column_index": (
        "[:, labels] minus 1 selects whole columns, not one element per row",
        "`[:, labels]` takes, in every row, all the columns listed in labels; to pick each "
        "sample's own correct class, give row and column indices as pairs: rows 0…N−1, "
        "columns labels.",
    ),
    "softmax_cross_entropy.no_shift": (
        "softmax without subtracting each row's maximum: NaN for large logits",
        "e^{1000} overflows to inf and inf / inf is NaN. Subtract each row's maximum first "
        "(the result does not change), then take exponentials and logs.",
    ),
    # ---- mlp_backward
    "mlp_backward.relu_mask_ge": (
        "The ReLU mask uses h_pre >= 0: the gradient leaks where the pre-activation is exactly 0",
        "By convention ReLU's subgradient at 0 is 0, so the mask needs a strict greater-than. A "
        "hidden unit whose pre-activation is exactly 0 (e.g. a zero weight column and zero "
        "bias) must not pass a gradient back.",
    ),
    "mlp_backward.no_relu_mask": (
        "No mask when going back through ReLU",
        "After the gradient comes back from the output layer to the hidden layer, it first "
        "goes through ReLU's derivative: units with pre-activation ≤ 0 get gradient 0. Leaving "
        "out the mask treats ReLU as the identity.",
    ),
    "mlp_backward.extra_mean": (
        "Every layer's gradient is divided by N once more",
        "dlogits = (softmax − onehot) / N already contains the mean; after it every layer only "
        "applies the chain rule. Do not divide dw and db by the batch size again.",
    ),
    "mlp_backward.no_mean": (
        "dlogits is not divided by N: these are the gradients of the summed loss",
        "The loss is the batch mean, so dlogits = (softmax − onehot) / N; without the 1/N every "
        "gradient is N times too large (right by luck for a batch of 1).",
    ),
    "mlp_backward.bias_mean": (
        "The bias gradients db1 and db2 are means instead of sums",
        "A bias is broadcast to every sample of the batch, so the backward pass adds up every "
        "sample's contribution. Averaging as well makes it N times too small.",
    ),
    "mlp_backward.dw_transposed": (
        "dw1 and dw2 are transposed",
        "A gradient has the shape of its parameter: w1 is (D, H), so dw1 is (D, H). Line the "
        "shapes up: the previous layer's output transposed on the left, this layer's upstream "
        "gradient on the right.",
    ),
    "mlp_backward.log_of_probs": (
        "The loss takes the log of the softmax: unstable for large logits",
        "When the logits are far apart the correct class's probability underflows to 0 and "
        "log(0) = −inf; without subtracting the maximum you even get inf / inf. Compute "
        "log-softmax directly with log-sum-exp.",
    ),
    # ---- batchnorm_forward
    "batchnorm_forward.unbiased_norm": (
        "Normalised with the unbiased variance (divided by N − 1)",
        "Training-time normalisation uses the batch's biased variance (divided by N), as "
        "PyTorch does; the unbiased variance is only for updating running_var. Each place uses "
        "its own, and it is one of the BN details interviewers ask about most.",
    ),
    "batchnorm_forward.biased_running": (
        "running_var is updated with the biased variance",
        "PyTorch updates running_var with the unbiased estimate N/(N−1)·σ²_B (it estimates the "
        "population variance), while normalisation itself uses the biased variance. Apply the "
        "correction factor when updating the running statistics.",
    ),
    "batchnorm_forward.momentum_swapped": (
        "The momentum convention is reversed: the new value is weighted by 1 − momentum",
        "PyTorch's convention is running ← (1 − m)·running + m·batch: momentum is the weight of "
        "the new observation (default 0.1). Keras / TensorFlow's momentum is the weight of the "
        "old value (default 0.99), exactly the other way round.",
    ),
    "batchnorm_forward.eps_outside_sqrt": (
        "ε added outside the square root: (x − μ) / (σ + ε)",
        "ε belongs to the variance, before the square root: √(σ² + ε). Outside it the "
        "difference looks like the sixth decimal place, but that is beyond the tolerance, and "
        "it grows when the variance is small.",
    ),
    "batchnorm_forward.eval_batch_stats": (
        "Eval mode still uses the current batch's statistics",
        "At inference a batch may be a single sample and its statistics mean nothing; eval mode "
        "normalises with the accumulated running_mean and running_var, and leaves them "
        "unchanged.",
    ),
    "batchnorm_forward.feature_axis": (
        "Statistics along the feature axis (axis 1): that is Layer Norm",
        "BN takes statistics for each feature over the batch (along axis 0); LN takes them for "
        "each sample over its features (along the last axis). The axis is the whole "
        "difference.",
    ),
    "batchnorm_forward.one_pass_var": (
        "Variance as E[x²] − E[x]²: precision collapses in float32",
        "The one-pass formula is mathematically right, but when the mean is much larger than "
        "the standard deviation it subtracts two large, nearly equal numbers and the digits "
        "cancel; float32 keeps only about 7 significant digits, so the result can be entirely "
        "wrong, even negative. Subtracting the mean before squaring (two passes) avoids this.",
    ),
    "batchnorm_forward.in_place_running": (
        "The running_mean / running_var passed in were updated in place",
        "PyTorch's buffers really are updated in place, but this task asks for new arrays and "
        "leaves the caller's inputs alone: in functional code the input arrays may still be "
        "used elsewhere. Compute the new values and return them.",
    ),
    # ---- batchnorm_backward
    "batchnorm_backward.no_stat_paths": (
        "dx is only dout·γ / √(σ² + ε): x's influence through the mean and variance is missing",
        "μ and σ² are both functions of x, and the gradient flows back to x through them too. "
        "The full result subtracts two terms from dout·γ/√(σ²+ε): the mean gradient over the "
        "batch (the mean's path) and x̂ times the mean of x̂ times the gradient (the variance's "
        "path). A check: with a constant dout, dx should be 0.",
    ),
    "batchnorm_backward.no_var_path": (
        "dx misses the term through the variance",
        "Subtracting the mean gradient handles x's influence through the mean; σ² depends on x "
        "too, so also subtract x̂ times “the mean of x̂ times the gradient”. Intuitively: the "
        "normalised output always has variance 1, so the component of dx along x̂ must be "
        "projected out.",
    ),
    "batchnorm_backward.no_mean_path": (
        "dx misses the term through the mean",
        "The variance's path is there, but μ depends on x too: also subtract the gradient's "
        "mean along the statistics axis. The normalised output always has mean 0, so any "
        "“shift everything” component of dx must be projected out.",
    ),
    "batchnorm_backward.swapped_params": (
        "dgamma and dbeta are swapped",
        "out = γ·x̂ + β: β's gradient is the sum of dout, γ's is the sum of dout·x̂. Check the "
        "order you return them in.",
    ),
    "batchnorm_backward.unbiased": (
        "Uses the unbiased variance (divided by N − 1)",
        "The forward normalisation uses the biased variance (divided by the number of elements "
        "in the statistic); the backward pass must differentiate that same function.",
    ),
    "batchnorm_backward.gamma_missing": (
        "dx is not multiplied by γ",
        "out = γ·x̂ + β, so the gradient reaching x̂ is dout·γ; everything after works on that.",
    ),
    "batchnorm_backward.dgamma_uses_x": (
        "dgamma uses x instead of the normalised x̂",
        "γ multiplies x̂, so dgamma = Σ dout·x̂; the raw x brings its mean and scale along.",
    ),
    "batchnorm_backward.param_grads_wrong_axis": (
        "dgamma and dbeta are summed along axis 1",
        "γ and β have shape (D,): one parameter per feature, shared by every sample of the "
        "batch, so their gradients sum over the samples (axis 0).",
    ),
    # ---- layernorm_backward
    "layernorm_backward.no_stat_paths": (
        "dx is only dout·γ / √(σ² + ε): x's influence through the mean and variance is missing",
        "μ and σ² are both functions of x, and the gradient flows back to x through them too. "
        "The full result subtracts two terms from dout·γ/√(σ²+ε): the mean gradient over the "
        "features (the mean's path) and x̂ times the mean of x̂ times the gradient (the "
        "variance's path). A check: with a constant dout, dx should be 0.",
    ),
    "layernorm_backward.no_var_path": (
        "dx misses the term through the variance",
        "Subtracting the mean gradient handles x's influence through the mean; σ² depends on x "
        "too, so also subtract x̂ times “the mean of x̂ times the gradient”. Intuitively: the "
        "normalised output always has variance 1, so the component of dx along x̂ must be "
        "projected out.",
    ),
    "layernorm_backward.no_mean_path": (
        "dx misses the term through the mean",
        "The variance's path is there, but μ depends on x too: also subtract the gradient's "
        "mean along the statistics axis. The normalised output always has mean 0, so any "
        "“shift everything” component of dx must be projected out.",
    ),
    "layernorm_backward.swapped_params": (
        "dgamma and dbeta are swapped",
        "out = γ·x̂ + β: β's gradient is the sum of dout, γ's is the sum of dout·x̂. Check the "
        "order you return them in.",
    ),
    "layernorm_backward.unbiased": (
        "Uses the unbiased variance (divided by N − 1)",
        "The forward normalisation uses the biased variance (divided by the number of elements "
        "in the statistic); the backward pass must differentiate that same function.",
    ),
    "layernorm_backward.gamma_missing": (
        "dx is not multiplied by γ",
        "out = γ·x̂ + β, so the gradient reaching x̂ is dout·γ; everything after works on that.",
    ),
    "layernorm_backward.dgamma_uses_x": (
        "dgamma uses x instead of the normalised x̂",
        "γ multiplies x̂, so dgamma = Σ dout·x̂; the raw x brings its mean and scale along.",
    ),
    "layernorm_backward.param_grads_axis0": (
        "dgamma and dbeta are summed along axis 0 only: wrong shape for 3-D input",
        "γ and β are shared by every sample and every position, so their gradients sum over "
        "all axes but the last. For a (B, T, D) input, summing along axis 0 alone gives (T, D). "
        "Merge the leading axes into one before summing and any rank works.",
    ),
    # ---- layernorm_forward
    "layernorm_forward.batch_axis": (
        "Statistics along axis 0 (the batch axis): that is Batch Norm",
        "LN takes the mean and variance of each sample on its own, over the feature axis (the "
        "last one), so it does not depend on the batch size; statistics along axis 0 are BN's.",
    ),
    "layernorm_forward.axis_one": (
        "The statistics axis is hard-coded as 1: wrong for inputs of 3 or more dimensions",
        "For an (N, D) input axis 1 happens to be the last axis, but in (B, T, D) the features "
        "are axis 2. LN always works on the last axis: name it with a negative index and any "
        "rank works.",
    ),
    "layernorm_forward.unbiased": (
        "Uses the unbiased variance (divided by D − 1)",
        "As in PyTorch, LN uses the biased variance (divided by the number of features D).",
    ),
    "layernorm_forward.eps_outside_sqrt": (
        "ε added outside the square root: (x − μ) / (σ + ε)",
        "ε belongs to the variance, before the square root: √(σ² + ε). The difference looks "
        "like the sixth decimal place, but it is beyond the tolerance, and larger on rows with "
        "a small variance.",
    ),
    "layernorm_forward.no_affine": (
        "γ and β are not applied",
        "Normalisation is followed by a per-feature affine map γ·x̂ + β, which lets the network "
        "recover the scale and offset it needs.",
    ),
    "layernorm_forward.all_but_batch": (
        "Normalises over every axis but axis 0 together",
        "torch.nn.LayerNorm(D) takes statistics over the last axis only: in a (B, T, D) input "
        "each position t is normalised on its own, not the whole (T, D) plane as one group.",
    ),
    "layernorm_forward.one_pass_var": (
        "Variance as E[x²] − E[x]²: precision collapses in float32",
        "When the mean is much larger than the standard deviation, two large, nearly equal "
        "numbers are subtracted and the digits cancel; float32 keeps only about 7 significant "
        "digits. Subtracting the mean before squaring (two passes) is stable.",
    ),
}

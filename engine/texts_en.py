"""English for the grader's feedback, keyed by its Chinese msgid (see engine.i18n).

Placeholders are the same as in the Chinese template. Labels ({label}, {who}) arrive with their
own trailing space in English, and the kinds of value ({kind}) with a leading one.
"""

from __future__ import annotations

from engine.texts_en_cases import CASE_NAMES
from engine.texts_en_mistakes import MISTAKES

__all__ = ["MESSAGES", "CASE_NAMES", "MISTAKES", "SANDBOX"]

MESSAGES: dict[str, str] = {
    # ---- grader: run statuses and hidden-test reasons
    "返回值的类型或结构不符": "the return value has the wrong type or structure",
    "返回值的形状与期望不符": "the return value has the wrong shape",
    "返回值的 dtype 不符": "the return value has the wrong dtype",
    "返回值含 NaN 或 inf，而参考结果是有限值（需要数值稳定的写法）": (
        "the return value contains NaN or inf where the reference is finite "
        "(a numerically stable formulation is needed)"
    ),
    "数值不符（超出容差）": "wrong values (outside the tolerance)",
    "代码有语法错误": "the code has a syntax error",
    "没有找到要求的函数": "the required function was not found",
    "加载代码时出错": "loading the code failed",
    "超时": "time limit",
    "内存超限": "memory limit exceeded",
    "输出超限": "output limit exceeded",
    "进程意外退出": "the process exited unexpectedly",
    "评测环境不可用": "the grading environment is unavailable",
    "评测系统内部错误": "internal grader error",
    # ---- grader: per-test messages
    "运行出错：{error}": "Runtime error: {error}",
    "运行出错：{error}。隐藏测试不显示错误详情，请先通过可见示例自查。": (
        "Runtime error: {error}. Hidden tests do not show error details; "
        "check your code against the visible examples first."
    ),
    "（提交时不显示函数外的输出；请用“运行”查看）": (
        "(output printed outside the function is not shown on submit; use Run to see it)"
    ),
    "通过": "Passed",
    "内存不足（MemoryError）：数组太大或创建了过多的中间结果": (
        "Out of memory (MemoryError): an array is too large or too many intermediates were created"
    ),
    "递归过深（RecursionError）": "Recursion too deep (RecursionError)",
    "…（已截断，共 {n} 个字符）": "… (truncated, {n} characters in all)",
    "超时：时间用完时这个测试还没有完成": "Timed out: this test had not finished when time ran out",
    "未运行（{status}）": "Not run ({status})",
    "函数原地修改了输入 {names}：请不要修改传入的数组，先复制或返回新数组": (
        "The function modified its input {names} in place: leave the caller's arrays alone "
        "and return a new array (copy first if you must)"
    ),
    "（隐藏测试中的其他警告不显示）": "(other warnings from hidden tests are not shown)",
    "NumPy 警告（不影响判定）：{shown}": "NumPy warnings (they do not affect the verdict): {shown}",
    "异常": "an exception",
    "函数签名与题目不符：题目要求 `{signature}`。": (
        "The function signature does not match the task: it asks for `{signature}`."
    ),
    "、": ", ",
    "；": "; ",
    # ---- grader: verdict summaries
    "可见示例全部通过（{total} 个）。提交后还会运行隐藏测试。": (
        "All {total} visible examples pass. Submitting also runs the hidden tests."
    ),
    "通过：全部 {total} 个测试均正确。": "Accepted: all {total} tests are correct.",
    "答案错误：{total} 个测试中通过 {passed} 个，首个未通过的测试是「{name}」。": (
        "Wrong answer: {passed} of {total} tests pass; the first failing test is “{name}”."
    ),
    "运行错误：没有找到函数 `{name}`。请在代码顶层用 `def {signature}:` 定义它，不要改函数名。": (
        "Runtime error: no function `{name}` was found. Define it at the top level of your code "
        "with `def {signature}:` and keep the name."
    ),
    "运行错误：测试「{name}」抛出了异常。": "Runtime error: test “{name}” raised an exception.",
    "评测系统内部错误，这不是你的代码的问题，请稍后重试。": (
        "Internal grader error. This is not a problem with your code; please try again later."
    ),
    "代码无法解析。": "The code cannot be parsed.",
    "语法错误：": "Syntax error: ",
    "运行错误：加载代码时抛出了异常（函数外的顶层代码出错）。": (
        "Runtime error: loading the code raised an exception (top-level code outside the function "
        "failed)."
    ),
    "运行错误：进程意外退出（例如调用了 sys.exit、os._exit 或触发了崩溃）。": (
        "Runtime error: the process exited unexpectedly (e.g. it called sys.exit or os._exit, "
        "or crashed)."
    ),
    "运行超时：超过了时间限制（可能有死循环，或实现太慢）。": (
        "Time limit exceeded (an infinite loop, or an implementation that is too slow)."
    ),
    "内存超限：程序使用的内存超过了限制。": "Memory limit exceeded: the program used too much memory.",
    "输出超限：打印的内容或返回的结果过大。": (
        "Output limit exceeded: too much was printed, or the returned result is too large."
    ),
    "评测沙箱返回的结果数量与测试数量不一致": (
        "The grading sandbox returned a different number of results than there are tests"
    ),
    "评测沙箱不可用：{error}": "The grading sandbox is unavailable: {error}",
    # ---- the command line's report (python -m engine grade --lang en)
    ", 未隔离运行": ", not isolated",
    "诊断：{title}": "Diagnosis: {title}",
    "（隐藏）": " (hidden)",
    "输入": "input",
    "期望": "expected",
    "得到": "got",
    "输出:": "output:",
    "函数外的输出:": "output outside the function:",
    # ---- compare: value checks
    "返回值": "The return value",
    "返回值[{i}] ": "return value [{i}] ",
    "返回值[{i}]": "return value [{i}]",
    "参数 {n}": "argument {n}",
    "包含 {n} 个元素的元组": "a tuple of {n} elements",
    "（{names}）": " ({names})",
    " None（是否忘了 return？）": " None (did you forget to return?)",
    " {n} 个元素的元组（list 也按元组传回）": " a tuple of {n} elements (a list comes back as a tuple)",
    "dtype 为 {dtype} 的数组": " an array of dtype {dtype}",
    "形状为 {shape}、dtype 为 {dtype} 的数组": " an array of shape {shape} and dtype {dtype}",
    "布尔值": " a bool",
    "整数": " an integer",
    "标量": " a scalar",
    " {name} 对象": " a {name} object",
    "{label}应为{want}，实际返回了{kind}": "{label}should be {want}, but the function returned{kind}",
    "{label}应为{want}，实际返回了 {n} 个元素的元组": (
        "{label}should be {want}, but the function returned a tuple of {n} elements"
    ),
    "{label}应为浮点标量，实际返回了{kind}": (
        "{label}should be a float scalar, but the function returned{kind}"
    ),
    "{label}应为数组，实际返回了{kind}": "{label}should be an array, but the function returned{kind}",
    "{label}应为形状 {shape} 的数组，实际返回了{kind}": (
        "{label}should be an array of shape {shape}, but the function returned{kind}"
    ),
    "{label}的形状与期望不符": "{label}has the wrong shape",
    "{label}的形状应为 {shape}，实际为 {got}（不做广播）": (
        "{label}should have shape {shape} but has shape {got} (no broadcasting is applied)"
    ),
    "{label}的 dtype 为 {dtype}，应为浮点类型（{want}）": (
        "{label}has dtype {dtype}; it should be a floating-point type ({want})"
    ),
    "{label}的 dtype 为 {dtype}，精度低于参考结果的 {want}（输出 dtype 应与输入一致，不能降低精度）": (
        "{label}has dtype {dtype}, less precise than the reference's {want} (the output dtype "
        "should follow the input's, never lose precision)"
    ),
    "输入为 {want}：按 PyTorch 约定输出应为 {want}；返回更高精度的 {dtype} 也接受，按 {want} 的容差（rtol={rtol:g}, atol={atol:g}）比较。": (
        "The input is {want}: by PyTorch's convention the output should be {want} too. The more "
        "precise {dtype} is accepted and compared with {want}'s tolerance "
        "(rtol={rtol:g}, atol={atol:g})."
    ),
    "全部": "all of them",
    "{n} 个元素中有 {count} 个": "{count} of {n} elements",
    "{label}含 NaN 或 inf，而参考结果是有限值（常见原因：exp 溢出或 0/0，需要数值稳定的写法）": (
        "{label}contains NaN or inf where the reference is finite (usually exp overflowing or "
        "0/0: a numerically stable formulation is needed)"
    ),
    "{label}含 NaN 或 inf（{every}），而参考结果是有限值；例如{where}为 {got}，参考结果为 {want}。常见原因：exp 溢出或 0/0，需要数值稳定的写法": (
        "{label}contains NaN or inf ({every}) where the reference is finite; e.g. {where} is "
        "{got}, the reference {want}. Usually exp overflowing or 0/0: a numerically stable "
        "formulation is needed"
    ),
    "（容差的 {worst:.3g} 倍）": " ({worst:.3g} times the tolerance)",
    "，最大相对误差 {rel:.3g}": ", largest relative error {rel:.3g}",
    "；超出容差的位置期望值都是 0（或接近 0），只看绝对误差": (
        "; where it is out of tolerance the expected value is 0 (or nearly), so only the "
        "absolute error counts"
    ),
    "{label}数值不符：{n} 个元素中有 {count} 个超出容差（rtol={rtol:g}, atol={atol:g}）；最大绝对误差 {max_abs:.3g}{times}{relative}；首个不符的{where}：期望 {want}，得到 {got}": (
        "{label}has wrong values: {count} of {n} elements are outside the tolerance "
        "(rtol={rtol:g}, atol={atol:g}); largest absolute error {max_abs:.3g}{times}{relative}; "
        "first mismatch at {where}: expected {want}, got {got}"
    ),
    "{label}数值不符（超出容差 rtol={rtol:g}, atol={atol:g}）": (
        "{label}has wrong values (outside the tolerance rtol={rtol:g}, atol={atol:g})"
    ),
    "位置 {index}": "position {index}",
    "该值": "the value",
    ", …（共 {n} 个元素）": ", … ({n} elements in all)",
    # ---- generic diagnosis: titles
    "函数没有返回结果": "The function returns nothing",
    "{who}形状是期望形状的转置": "{who}has the transposed shape of the expected one",
    "{who}多了（或少了）长度为 1 的维度": "{who}has an extra (or missing) axis of length 1",
    "{who}比期望少了维度": "{who}has fewer dimensions than expected",
    "{who}比期望多了维度": "{who}has more dimensions than expected",
    "{who}返回了整数或布尔数组": "{who}is an integer or boolean array",
    "{who}的精度低于输入（例如 float64 进、float32 出）": (
        "{who}is less precise than the input (e.g. float64 in, float32 out)"
    ),
    "{who}出现了 NaN 或 inf": "{who}contains NaN or inf",
    "只在 float32 输入上出错": "Wrong only on float32 inputs",
    "只在同一组内数值跨度极大的切片上出错：减去的不是每组的最大值": (
        "Wrong only where one slice spans a huge range: the shift is not each slice's maximum"
    ),
    "只在输入很大（数百乃至上千）的测试上出错：数值溢出或下溢": (
        "Wrong only on large inputs (hundreds or thousands): overflow or underflow"
    ),
    "沿错了轴归一化：结果等于沿另一个轴计算的正确答案": (
        "Normalised along the wrong axis: the result is the right answer for another axis"
    ),
    "只在输入恰好为 0 的位置出错": "Wrong only where the input is exactly 0",
    "{who}的符号反了": "{who}has the wrong sign",
    "{who}是期望值的 N 倍（N 为 batch 大小）": "{who}is N times the expected value (N: batch size)",
    "{who}是期望值的 1/N（N 为 batch 大小）": "{who}is 1/N of the expected value (N: batch size)",
    "（约为 {ratio:.6g} 倍）": " (about {ratio:.6g} times)",
    "{who}与期望值相差一个常数倍{shown}": "{who}is off from the expected value by a constant factor{shown}",
    "{who}是期望结果的转置": "{who}is the transpose of the expected result",
    "只在真实值极小的位置相对误差过大：有效数字被相减抵消": (
        "Large relative error only where the true value is tiny: cancellation ate the digits"
    ),
    "数值正确，但原地修改了输入 {shown}": "Right values, but the input {shown} was modified in place",
    # ---- generic diagnosis: details
    "至少有一个测试得到了 None：检查每条分支最后是否都 return 了结果。": (
        "At least one test got None: check that every branch ends by returning its result."
    ),
    "梯度与对应的参数同形。按形状推导矩阵乘法的顺序：(D, N) 乘 (N, M) 得到 (D, M)，哪个矩阵需要转置、放在左边还是右边，由形状唯一确定。": (
        "A gradient has the shape of its parameter. Let the shapes decide the matrix product: "
        "(D, N) times (N, M) gives (D, M), so which factor is transposed and which side it goes "
        "on follow from the shapes alone."
    ),
    "数值的个数对，但形状里多了或少了长度为 1 的轴：归约时用了 keepdims=True 却直接返回，或者返回前没有把结果整理成题目要求的形状。": (
        "The number of values is right but an axis of length 1 is extra or missing: a reduction "
        "used keepdims=True and was returned as is, or the result was not reshaped to what the "
        "task asks for."
    ),
    "结果少了一个或几个轴：多做了一次归约（求和、求最大值沿错了轴），或者归约时没有保留维度（keepdims）就用于后续计算。对照题目写出每一步的形状。": (
        "Axes are missing: one reduction too many (a sum or max along the wrong axis), or a "
        "reduction without keepdims used in a later step. Write down the shape after every step "
        "and compare with the task."
    ),
    "结果多了轴：漏了一次沿 batch 维的求和（参数被广播到每个样本，梯度要加起来），或者广播出了意料之外的形状。": (
        "There are extra axes: a sum over the batch axis is missing (a parameter broadcast to "
        "every sample needs its gradients added up), or broadcasting produced a shape you did "
        "not intend."
    ),
    "结果应当是浮点数组。比较运算得到的是布尔掩码，整数常量参与的运算可能得到整数：返回数值本身，并让 dtype 跟随输入。": (
        "The result should be a float array. A comparison gives a boolean mask and arithmetic "
        "with integer constants can give integers: return the values themselves and let the "
        "dtype follow the input."
    ),
    "输出的 dtype 应与输入一致。检查是否用 astype 或写死了 dtype 的常量数组降低了精度。": (
        "The output dtype should match the input's. Look for an astype, or a constant array with "
        "a hard-coded dtype, that lowers the precision."
    ),
    "参考结果是有限值。常见原因：0/0（例如方差为 0 时没有 ε 保护）、log(0)、对负数开根号、或 exp 溢出。找出产生第一个 NaN 的那一步。": (
        "The reference is finite. Usual causes: 0/0 (e.g. a zero variance without the ε guard), "
        "log(0), the square root of a negative number, or exp overflowing. Find the step that "
        "produces the first NaN."
    ),
    "float64 的测试都通过了，问题出在单精度：float32 只有约 7 位有效数字。常见原因：用 E[x²] − E[x]² 计算方差（两个大数相减，有效数字被抵消）、在 float32 里先累加很多大数、或把中间结果转成了更低的精度。先减去均值再平方，让相减发生在数值相近的量之间。": (
        "Every float64 test passes; the trouble is single precision, which keeps only about 7 "
        "significant digits. Usual causes: the variance as E[x²] − E[x]² (two large numbers "
        "subtracted, the digits cancel), summing many large numbers in float32, or casting an "
        "intermediate to lower precision. Subtract the mean before squaring, so subtraction "
        "happens between numbers of similar size."
    ),
    "一组里同时有 −1000 和 1000 这样的数时，只有减去这一组的最大值，才能保证每个指数的参数都 ≤ 0（不溢出）且最大的一项恰好是 e⁰ = 1（分母不为 0）。减去最小值、均值或某个固定的数，总有一端会溢出或全部下溢。": (
        "When one slice holds numbers like −1000 and 1000 together, only subtracting that slice's "
        "own maximum keeps every exponent ≤ 0 (no overflow) and makes the largest term exactly "
        "e⁰ = 1 (the denominator is never 0). Subtracting the minimum, the mean or a fixed number "
        "always lets one end overflow or everything underflow."
    ),
    "普通大小的输入都通过了。e^x 在 x > 709 时溢出为 inf，在 x < −745 时下溢为 0，于是出现 inf/inf、0/0 或 log(0)。改写公式，让指数的参数不会是很大的正数（例如先减去最大值，或按符号分情况）。": (
        "Inputs of ordinary size pass. e^x overflows to inf for x > 709 and underflows to 0 for "
        "x < −745, giving inf/inf, 0/0 or log(0). Rewrite the formula so the exponent is never a "
        "large positive number (subtract the maximum first, or split on the sign)."
    ),
    "每个出错的测试都恰好等于在另一个轴上做同样计算的结果。检查求最大值、求和时用的是不是调用方传入的 axis（并保留维度以便广播），而不是写死的某一轴。": (
        "Every failing test equals the same computation along another axis. Check that the max "
        "and the sum use the axis the caller passed (with keepdims so it broadcasts), not a "
        "hard-coded one."
    ),
    "其它位置都对，差别只出现在 x == 0 处：检查分段条件的边界，是 > 还是 >=。ReLU 一类函数在 0 处不可导，框架约定取 0 处的梯度为 0。": (
        "Everything else is right; the difference is only at x == 0. Check the boundary of the "
        "piecewise condition: > or >=. ReLU-like functions are not differentiable at 0 and "
        "frameworks agree to use a gradient of 0 there."
    ),
    "数值大小都对，只是正负相反。检查减法的顺序（a − b 还是 b − a）、导数公式里的负号，以及梯度下降与梯度本身的区别。": (
        "The magnitudes are right, the signs flipped. Check the order of a subtraction (a − b or "
        "b − a), the minus sign in the derivative, and the difference between the gradient and "
        "a descent step."
    ),
    "多了一个 N 倍：该取平均的地方求了和，或者漏了损失里的 1/N。损失是 batch 的平均时，它的梯度也带着 1/N。": (
        "A factor of N too many: a sum where there should be a mean, or the loss's 1/N left out. "
        "When the loss is the batch mean, its gradient carries the 1/N too."
    ),
    "少了一个 N 倍：该求和的地方取了平均，或者在已经带 1/N 的梯度上又除了一次 N。参数被广播到 batch 的每个样本时，梯度要把各样本的贡献加起来。": (
        "A factor of N too few: a mean where there should be a sum, or a gradient that already "
        "carries 1/N divided by N again. A parameter broadcast to every sample of the batch "
        "collects the sum of their contributions."
    ),
    "结果的形状和方向都对，只是整体缩放了。检查公式里的常数因子：1/2、1/N、导数里的系数，或者多乘（少乘）了某个参数。": (
        "Shape and direction are right; everything is scaled. Check the constant factors: 1/2, "
        "1/N, a coefficient in the derivative, or a parameter multiplied once too often (or too "
        "rarely)."
    ),
    "方阵的转置形状不变，所以不会报错，但数值错位了。按形状推导矩阵乘法的顺序，看清哪一个因子需要转置。": (
        "A square matrix keeps its shape when transposed, so nothing raises, but the values are "
        "in the wrong places. Derive the order of the matrix product from the shapes and see "
        "which factor needs the transpose."
    ),
    "结果极小（例如 1e−14 以下）的位置，答案只剩舍入误差甚至是 0，或者被截断成了别的小数。常见原因：“1 减去一个非常接近 1 的数”，或把输入裁剪（clip）到了有限范围。改用不做这种减法、也不截断输入的等价公式，让小结果直接由小量计算出来。": (
        "Where the result is tiny (below about 1e−14) the answer is only rounding error, 0, or "
        "some other small number from a clipped input. Usual causes: “1 minus something very "
        "close to 1”, or clipping the input to a finite range. Use an equivalent formula without "
        "that subtraction or clipping, so small results are computed from small quantities."
    ),
    "调用方的数组被改掉了：原地运算（+=、*=、切片赋值、out= 参数）写回了传入的数组。先复制一份，或者让每一步都产生新数组。": (
        "The caller's array was changed: an in-place operation (+=, *=, slice assignment, an "
        "out= argument) wrote into the array passed in. Copy it first, or let every step "
        "produce a new array."
    ),
}


# The sandbox's texts (engine/sandbox: outcome.MESSAGES, crash details, truncation marks and the
# value-transfer errors), matched back by engine.i18n.sandbox_text.
SANDBOX: dict[str, str] = {
    # The crash details first: they sit inside the crash message, which is matched after them.
    "结果通道中出现了无法识别的数据": "unrecognisable data on the result channel",
    "被信号 {signal} 终止": "killed by signal {signal}",
    "退出码 {code}": "exit code {code}",
    "代码有语法错误，无法编译。请根据错误信息修改后再提交。": (
        "The code has a syntax error and cannot be compiled. Fix it using the error below and "
        "submit again."
    ),
    "没有找到函数 `{function}`：请保留题目给出的函数名和签名。": (
        "No function `{function}` was found: keep the function name and signature the task gives."
    ),
    "模块加载时出错：顶层代码抛出了异常（函数之外的语句也会在加载时执行）。": (
        "Loading the module failed: top-level code raised an exception (statements outside the "
        "function run when the code is loaded)."
    ),
    "运行超时：超过了 CPU {cpu:g} 秒或总时长 {wall:g} 秒的限制，请检查是否有死循环或过慢的实现。": (
        "Time limit exceeded: over the limit of {cpu} s of CPU or {wall} s in all. Look for an "
        "infinite loop or an implementation that is too slow."
    ),
    "内存超限：超过了 {mb} MB 的限制，请避免创建过大的数组。": (
        "Memory limit exceeded: over the {mb} MB limit. Avoid creating very large arrays."
    ),
    "返回的结果过大：超过了 {result_mb} MB 的限制。": (
        "The returned result is too large: over the {result_mb} MB limit."
    ),
    "程序异常退出（{detail}）：例如调用了 sys.exit()/os._exit()，或触发了段错误。": (
        "The program exited abnormally ({detail}): e.g. it called sys.exit()/os._exit(), or "
        "caused a segmentation fault."
    ),
    "评测服务内部错误，请稍后重试（不是你的代码的问题）。": (
        "Internal grading error; please try again later (it is not a problem with your code)."
    ),
    "评测沙箱未就绪：本机无法启用代码隔离（需要 Linux 命名空间和 seccomp，运行 python -m engine doctor 可查看缺少哪一层），为安全起见拒绝运行提交的代码。请联系管理员；仅在本地开发时可设置 GRADER_ALLOW_UNSANDBOXED=1 以无隔离模式运行。": (
        "The grading sandbox is not ready: code isolation cannot be enabled on this machine (it "
        "needs Linux namespaces and seccomp; python -m engine doctor shows which layer is "
        "missing), so submitted code is refused for safety. Contact the administrator; for "
        "local development only, GRADER_ALLOW_UNSANDBOXED=1 runs without isolation."
    ),
    "…[输出过长，已截断 {n} 字节]": "…[output too long, {n} bytes cut]",
    "…[输出过长，已截断 {n} 个字符]": "…[output too long, {n} characters cut]",
    "TypeError: 返回值类型不受支持（只接受 NumPy 数组、数字、None 及其元组）": (
        "TypeError: unsupported return type (only NumPy arrays, numbers, None and tuples of "
        "them are accepted)"
    ),
    "TypeError: 返回值无法传回评测端（只接受 NumPy 数组、数字、None 及其元组）：": (
        "TypeError: the return value cannot be sent back to the grader (only NumPy arrays, "
        "numbers, None and tuples of them are accepted): "
    ),
}

#!/usr/bin/env python3
"""Reference rollouts for the MuJoCo locomotion conformance tests (docs/environments.md §5).

For each task: a start state (Gymnasium v4's own reset, seeded), 200 float32 actions drawn from the
action space, and what the raw v4 environment returns after each step (observation, reward, terminated,
x velocity). Stepping continues past termination, as a raw environment does. The Swift tests replay
the actions from the stored state, so no Python is needed at test time.

Needs pip mujoco 2.3.x (>= 3.0 is not bit-identical to Debian's libmujoco 2.2.2) in a venv that is not
committed:
    python3 -m venv /work/.venv-mujoco
    /work/.venv-mujoco/bin/pip install mujoco==2.3.1.post1 imageio gymnasium==1.0.0
    /work/.venv-mujoco/bin/python dev/make_locomotion_fixtures.py Tests/OfflineRLTests/Fixtures
"""
import json
import os
import sys

import gymnasium as gym
import mujoco
import numpy as np

TASKS = {"halfcheetah": "HalfCheetah-v4", "hopper": "Hopper-v4", "walker2d": "Walker2d-v4"}
STEPS = 200


def record(task, gym_id, seed):
    env = gym.make(gym_id).unwrapped  # raw env: no time limit, no order checks, steps past termination
    env.reset(seed=seed)
    qpos, qvel = env.data.qpos.copy(), env.data.qvel.copy()
    env.action_space.seed(seed + 1)
    actions = [env.action_space.sample() for _ in range(STEPS)]
    observations, rewards, terminated, x_velocity = [], [], [], []
    for a in actions:
        obs, r, term, _, info = env.step(a)
        observations.append([float(v) for v in obs])
        rewards.append(float(r))
        terminated.append(bool(term))
        x_velocity.append(float(info["x_velocity"]))
    return {
        "task": task, "gymnasium": gym.__version__, "mujoco": mujoco.__version__, "numpy": np.__version__,
        "seed": seed,
        "init_qpos": [float(v) for v in qpos], "init_qvel": [float(v) for v in qvel],
        "actions": [[float(v) for v in a] for a in actions],
        "observations": observations, "rewards": rewards, "terminated": terminated, "x_velocity": x_velocity,
    }


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "Tests/OfflineRLTests/Fixtures"
    assert mujoco.__version__.startswith("2.3"), "reference rollouts need pip mujoco 2.3.x"
    for i, (task, gym_id) in enumerate(TASKS.items()):
        data = record(task, gym_id, seed=33 + i)
        path = os.path.join(out, f"locomotion-{task}.json")
        with open(path, "w") as f:
            json.dump(data, f, separators=(",", ":"))
        print(f"{path}: {sum(data['terminated'])} terminated steps of {STEPS}")


if __name__ == "__main__":
    main()

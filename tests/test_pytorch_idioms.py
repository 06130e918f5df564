"""Idioms from the CIFAR-10 tutorial, DCGAN and kuangliu's ResNet training scripts, as
written for PyTorch, run with ``import autograd_cnn as torch`` (one training step each)."""

import numpy as np

import autograd_cnn as torch
import autograd_cnn.nn as nn
import autograd_cnn.nn.functional as F
import autograd_cnn.optim as optim
import autograd_cnn.utils as vutils


class CifarNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def test_cifar10_tutorial_loop(tmp_path):
    torch.manual_seed(0)
    net = CifarNet()
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
    ds = torch.utils.data.TensorDataset(torch.randn(8, 3, 32, 32), torch.randint(0, 10, (8,)))
    trainloader = torch.utils.data.DataLoader(ds, batch_size=4, shuffle=True, num_workers=0)
    classes = ('plane', 'car', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck')
    before = [p.numpy().copy() for p in net.parameters()]
    running_loss = 0.0
    for i, data in enumerate(trainloader, 0):
        inputs, labels = data
        optimizer.zero_grad()
        outputs = net(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
    assert np.isfinite(running_loss)
    assert any((b != p.numpy()).any() for b, p in zip(before, net.parameters()))
    correct = total = 0
    correct_pred = {classname: 0 for classname in classes}
    total_pred = {classname: 0 for classname in classes}
    with torch.no_grad():
        for data in trainloader:
            images, labels = data
            outputs = net(images)
            _, predicted = torch.max(outputs.data, 1)
            total += labels.size(0)
            correct += (predicted == labels).sum().item()
            _, predictions = torch.max(outputs, 1)
            for label, prediction in zip(labels, predictions):
                if label == prediction:
                    correct_pred[classes[label]] += 1
                total_pred[classes[label]] += 1
    assert total == 8 and sum(total_pred.values()) == 8
    assert sum(correct_pred.values()) == correct
    path = tmp_path / "cifar_net.pth"
    torch.save(net.state_dict(), path)
    net.load_state_dict(torch.load(path, weights_only=True))


def test_dcgan_step_and_image_grid():
    nz, ngf, ndf = 8, 4, 4

    def weights_init(m):
        classname = m.__class__.__name__
        if classname.find('Conv') != -1:
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif classname.find('BatchNorm') != -1:
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.constant_(m.bias, 0)

    netG = nn.Sequential(nn.ConvTranspose2d(nz, ngf * 2, 4, 1, 0, bias=False),
                         nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
                         nn.ConvTranspose2d(ngf * 2, 3, 4, 2, 1, bias=False), nn.Tanh())
    netD = nn.Sequential(nn.Conv2d(3, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
                         nn.Conv2d(ndf, 1, 4, 1, 0, bias=False), nn.Sigmoid())
    netG.apply(weights_init)
    netD.apply(weights_init)
    criterion = nn.BCELoss()
    device = torch.device("cuda:0" if (torch.cuda.is_available()) else "cpu")
    fixed_noise = torch.randn(4, nz, 1, 1, device=device)
    optimizerD = optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optimizerG = optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real_cpu = torch.randn(4, 3, 8, 8).to(device)
    b_size = real_cpu.size(0)
    label = torch.full((b_size,), 1., dtype=torch.float, device=device)
    netD.zero_grad()
    output = netD(real_cpu).view(-1)
    errD_real = criterion(output, label)
    errD_real.backward()
    noise = torch.randn(b_size, nz, 1, 1, device=device)
    fake = netG(noise)
    label.fill_(0.)
    output = netD(fake.detach()).view(-1)
    errD_fake = criterion(output, label)
    errD_fake.backward()
    errD = errD_real + errD_fake
    optimizerD.step()
    netG.zero_grad()
    label.fill_(1.)
    output = netD(fake).view(-1)
    errG = criterion(output, label)
    errG.backward()
    optimizerG.step()
    with torch.no_grad():
        fake = netG(fixed_noise).detach().cpu()
    grid = vutils.make_grid(fake, padding=2, normalize=True)
    assert np.isfinite(errD.item()) and np.isfinite(errG.item())
    assert np.transpose(grid.numpy(), (1, 2, 0)).shape == (12, 42, 3)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=3, stride=stride, padding=1,
                               bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != self.expansion * planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, self.expansion * planes, kernel_size=1, stride=stride,
                          bias=False),
                nn.BatchNorm2d(self.expansion * planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += self.shortcut(x)  # in place on a recorded intermediate
        out = F.relu(out)
        return out


def test_kuangliu_basic_block_with_inplace_residual_matches_out_of_place():
    import autograd_cnn.backends.cudnn as cudnn  # noqa: F401  (kuangliu's main.py imports it)

    torch.manual_seed(0)
    block = BasicBlock(4, 8, stride=2).double()
    x = torch.randn(2, 4, 8, 8, dtype=torch.float64, requires_grad=True)
    out = block(x)
    _, predicted = out.flatten(1).max(1)
    assert predicted.shape == (2,)
    out.sum().backward()
    g_inplace = x.grad.numpy().copy()
    x.grad = None
    ref = F.relu(block.bn2(block.conv2(F.relu(block.bn1(block.conv1(x))))) + block.shortcut(x))
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-12)
    ref.sum().backward()
    np.testing.assert_allclose(g_inplace, x.grad.numpy(), rtol=1e-10)
